/** XML the way Plex Media Server writes it: one element per line, booleans as 1/0. */

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

export type XmlAttributeValue = string | number | boolean | undefined;

/** Escapes a value for a double-quoted attribute, including newlines and tabs (kept as-is they would be normalised to spaces by a parser). */
export function escapeXmlAttribute(value: string): string {
  return value.replace(/[&<>"'\n\r\t]/g, (char) => {
    switch (char) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return `&#${char.charCodeAt(0)};`;
    }
  });
}

function formatAttributes(attributes: Record<string, XmlAttributeValue>): string {
  return Object.entries(attributes)
    .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined)
    .map(([name, value]) => {
      const text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
      return ` ${name}="${escapeXmlAttribute(text)}"`;
    })
    .join('');
}

/** `<Name a="1"/>`; attributes that are undefined are left out. */
export function emptyElement(name: string, attributes: Record<string, XmlAttributeValue>): string {
  return `<${name}${formatAttributes(attributes)}/>`;
}

/** A whole document: declaration, root element, one child element per line. */
export function xmlDocument(
  rootName: string,
  rootAttributes: Record<string, XmlAttributeValue>,
  children: string[],
): string {
  const open = `<${rootName}${formatAttributes(rootAttributes)}>`;
  return [XML_DECLARATION, open, ...children, `</${rootName}>`, ''].join('\n');
}

/** A JSON object the way Plex nests it: values are attributes, objects and lists of them children. */
export type NestedFields = { [name: string]: XmlAttributeValue | NestedFields | NestedFields[] };

/**
 * The XML element of a JSON object as Plex writes both: `{"title": "x", "User": {...},
 * "Media": [{...}]}` is `<Name title="x"><User …/><Media …/></Name>`.
 */
export function nestedElement(name: string, fields: NestedFields): string {
  const attributes: Record<string, XmlAttributeValue> = {};
  const children: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (Array.isArray(value)) {
      for (const item of value) children.push(nestedElement(key, item));
    } else if (typeof value === 'object') {
      children.push(nestedElement(key, value));
    } else {
      attributes[key] = value;
    }
  }
  if (children.length === 0) return emptyElement(name, attributes);
  return [`<${name}${formatAttributes(attributes)}>`, ...children, `</${name}>`].join('\n');
}
