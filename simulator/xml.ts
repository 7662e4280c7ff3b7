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
