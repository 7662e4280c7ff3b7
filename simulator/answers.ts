/**
 * Answers as a route plans them, before a fault may change how they are sent: the JSON or XML
 * document the client asked for, the server's HTML pages, empty answers.
 */
import type http from 'node:http';
import { NOT_FOUND_HTML, UNAUTHORIZED_HTML } from './pages';
import { emptyElement, xmlDocument, type XmlAttributeValue } from './xml';

export interface PlannedAnswer {
  status: number;
  contentType?: string;
  extraHeaders?: Record<string, string>;
  body: string;
}

/** Attribute values of one XML element, or the fields of one JSON object. */
export type DocumentFields<T> = { [K in keyof T]: XmlAttributeValue };

/** A Plex document: a root with attributes and, optionally, one kind of child element. */
export interface PlexDocument<T extends DocumentFields<T>> {
  root: string;
  attributes?: Record<string, XmlAttributeValue>;
  children?: { name: string; items: readonly T[] };
}

export function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Plex answers JSON to a client that accepts it, XML otherwise. */
export function wantsJson(headers: http.IncomingHttpHeaders): boolean {
  return (firstHeader(headers.accept) ?? '').toLowerCase().includes('application/json');
}

/**
 * `{root: {...attributes, name: [items]}}` or `<root a=""><name …/>…</root>`. Plex leaves empty
 * lists out of JSON ({"MediaContainer":{"size":0}}); clients must cope. Undefined fields are left
 * out of both.
 */
export function documentAnswer<T extends DocumentFields<T>>(
  json: boolean,
  document: PlexDocument<T>,
): PlannedAnswer {
  const attributes = document.attributes ?? {};
  const items = document.children?.items ?? [];
  if (json) {
    const container =
      document.children && items.length > 0
        ? { ...attributes, [document.children.name]: items }
        : attributes;
    return {
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify({ [document.root]: container }),
    };
  }
  const name = document.children?.name ?? '';
  const elements = items.map((item) =>
    emptyElement(name, item as Record<string, XmlAttributeValue>),
  );
  return {
    status: 200,
    contentType: 'application/xml',
    body: xmlDocument(document.root, attributes, elements),
  };
}

export function htmlAnswer(status: number, body: string): PlannedAnswer {
  return { status, contentType: 'text/html', body };
}

/** Empty answers carry text/html, as in the spec's shared 200 response. */
export function emptyAnswer(status = 200): PlannedAnswer {
  return htmlAnswer(status, '');
}

export function notFoundAnswer(): PlannedAnswer {
  return htmlAnswer(404, NOT_FOUND_HTML);
}

export function unauthorizedAnswer(): PlannedAnswer {
  return htmlAnswer(401, UNAUTHORIZED_HTML);
}
