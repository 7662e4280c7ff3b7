/**
 * Every sentence the library and the nodes show a person is a message reference: a key into
 * the message catalogs (lib/locales/<language>/messages.json, which the build also gives the
 * nodes)
 * with its parameters. The library words its errors in English from the en-US catalog; the
 * nodes translate the same reference into the language of the runtime or the editor.
 */
import english from './locales/en-US/messages.json';

export type MessageParam = string | number | MessageRef;

export interface MessageRef {
  /** A key in the catalog, e.g. "errors.timeout". */
  key: string;
  params?: Readonly<Record<string, MessageParam>>;
}

export type Catalog = { [key: string]: string | Catalog };

export function message(key: string, params?: Record<string, MessageParam>): MessageRef {
  return params ? { key, params } : { key };
}

/** Finds a key ("errors.timeout") in a nested catalog; undefined when it has none. */
export function lookup(catalog: Catalog, key: string): string | undefined {
  let node: string | Catalog | undefined = catalog;
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, part)) return undefined;
    node = node[part];
  }
  return typeof node === 'string' ? node : undefined;
}

/** Puts the parameters into a template, as Node-RED's i18n does: `__name__`. */
export function interpolate(
  template: string,
  params: Readonly<Record<string, string | number>>,
): string {
  return template.replace(/__([A-Za-z0-9]+)__/g, (whole, name: string) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole,
  );
}

/**
 * The words of a reference, nested references first. `translate` looks a key up with its
 * parameters filled in (Node-RED's RED._ does exactly that); by default the English catalog.
 */
export function formatMessage(
  ref: MessageRef,
  translate: (key: string, params: Record<string, string | number>) => string = inEnglish,
): string {
  const params: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(ref.params ?? {})) {
    params[name] = typeof value === 'object' ? formatMessage(value, translate) : value;
  }
  return translate(ref.key, params);
}

function inEnglish(key: string, params: Record<string, string | number>): string {
  return interpolate(lookup(english as Catalog, key) ?? key, params);
}

export const ENGLISH: Readonly<Catalog> = english as Catalog;
