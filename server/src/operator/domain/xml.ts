import { SaxesParser } from 'saxes';
import { EdaMessageError } from './errors.js';

/**
 * A small, namespace-resolved element tree read with saxes, within limits.
 *
 * saxes is a strict XML 1.0 parser: malformed XML is an error, never repaired. Prefixes are
 * resolved to namespace URIs, so `cp:Energy`, `ns0:Energy` and a default-namespace `Energy` are
 * the same element and an `Energy` in a foreign namespace is not. It never expands entities
 * declared in a DTD (an undeclared entity reference is an error), and any DOCTYPE is refused
 * here on top, so "billion laughs" and external entities cannot happen. Limits on bytes, depth
 * and element count are checked while parsing, so a hostile input costs at most its size.
 */
export interface XmlElement {
  readonly uri: string;
  readonly local: string;
  /** Attributes without namespace, by local name (EDA puts its attributes in no namespace). */
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: readonly XmlElement[];
  /** Character data directly inside the element (only leaf elements carry any). */
  readonly text: string;
}

export interface XmlLimits {
  /** Default 8 MiB: a month of quarter hours for one Zählpunkt with every code is about 2.5 MB. */
  readonly maxBytes?: number;
  readonly maxDepth?: number;
  readonly maxElements?: number;
}

export const DEFAULT_XML_LIMITS: Required<XmlLimits> = { maxBytes: 8 * 1024 * 1024, maxDepth: 32, maxElements: 500_000 };

const NO_ATTRIBUTES: ReadonlyMap<string, string> = new Map();

interface OpenElement {
  readonly uri: string;
  readonly local: string;
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: XmlElement[];
  text: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function decode(input: string | Uint8Array, maxBytes: number): string {
  if (typeof input === 'string') {
    // A UTF-16 code unit is at least one UTF-8 byte, so the cheap check comes first.
    if (input.length > maxBytes || Buffer.byteLength(input, 'utf8') > maxBytes) {
      throw new EdaMessageError('too_large', `the message is larger than ${maxBytes} bytes`);
    }
    return input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  }
  if (input.byteLength > maxBytes) throw new EdaMessageError('too_large', `the message is larger than ${maxBytes} bytes`);
  try {
    return utf8.decode(input);
  } catch {
    throw new EdaMessageError('not_utf8', 'the message is not valid UTF-8');
  }
}

export function readXml(input: string | Uint8Array, limits: XmlLimits = {}): XmlElement {
  const { maxBytes, maxDepth, maxElements } = { ...DEFAULT_XML_LIMITS, ...limits };
  const text = decode(input, maxBytes);
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: OpenElement[] = [];
  let root: XmlElement | undefined;
  let elements = 0;
  const where = () => `line ${parser.line}, column ${parser.column}`;

  parser.on('error', (error) => {
    throw new EdaMessageError('malformed_xml', `malformed XML: ${error.message}`);
  });
  parser.on('xmldecl', (decl) => {
    if (decl.encoding !== undefined && !/^utf-?8$/i.test(decl.encoding)) {
      throw new EdaMessageError('not_utf8', `the message declares encoding ${JSON.stringify(decl.encoding)}; EDA messages are UTF-8`);
    }
  });
  parser.on('doctype', () => {
    throw new EdaMessageError('forbidden_xml', `a DOCTYPE is not allowed in an EDA message (${where()})`);
  });
  parser.on('opentag', (tag) => {
    elements += 1;
    if (elements > maxElements) throw new EdaMessageError('too_large', `more than ${maxElements} elements`);
    if (stack.length >= maxDepth) throw new EdaMessageError('too_large', `elements nested deeper than ${maxDepth} (${where()})`);
    let attributes: Map<string, string> | undefined;
    for (const name in tag.attributes) {
      const attribute = tag.attributes[name]!;
      if (attribute.uri === '') (attributes ??= new Map()).set(attribute.local, attribute.value);
    }
    stack.push({ uri: tag.uri, local: tag.local, attributes: attributes ?? NO_ATTRIBUTES, children: [], text: '' });
  });
  const addText = (data: string) => {
    const top = stack[stack.length - 1];
    if (top) top.text += data;
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('closetag', () => {
    const open = stack.pop()!;
    if (open.children.length > 0 && open.text.trim() !== '') {
      throw new EdaMessageError('malformed_xml', `<${open.local}> mixes text and elements (${where()})`);
    }
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(open);
    else root = open;
  });

  parser.write(text).close();
  if (!root) throw new EdaMessageError('malformed_xml', 'the message has no root element');
  return root;
}
