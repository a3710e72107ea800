import { SaxesParser } from 'saxes';
import { UftpEncodeError, UftpTransportError } from './errors.js';

/**
 * UFTP XML as a plain tree: every UFTP element carries attributes and child elements only (no
 * text, no namespace), so that is all this tree holds.
 *
 * Reading is the first line of defence against hostile input, before any schema validator sees
 * the text: saxes is a strict XML 1.0 parser written in JavaScript that has no way to fetch
 * anything, and on top of that this reader refuses every construct UFTP never uses and an
 * attacker needs — a DOCTYPE (entity expansion, "billion laughs", external entities, SSRF),
 * processing instructions, CDATA, prefixed names and namespace declarations (XInclude,
 * xsi:schemaLocation hints) — and stops at limits on bytes, depth, element count and attribute
 * length while it parses, so a hostile message costs at most its size.
 */
export interface XmlNode {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlNode[];
}

export interface XmlLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
  readonly maxElements: number;
  readonly maxAttributeLength: number;
}

/**
 * For payload messages. A month's FlexSettlement with a few orders a day is under 1 MB; the
 * deepest UFTP message (AGRPortfolioQueryResponse) nests 5 levels; no UFTP attribute value
 * needs more than a few hundred characters (an entity address is at most 255).
 */
export const PAYLOAD_LIMITS: XmlLimits = { maxBytes: 4 * 1024 * 1024, maxDepth: 8, maxElements: 200_000, maxAttributeLength: 4096 };

/** For the SignedMessage envelope: one element whose Body is the base64 of a payload plus its signature. */
export const ENVELOPE_LIMITS: XmlLimits = {
  maxBytes: Math.ceil(((PAYLOAD_LIMITS.maxBytes + 64) * 4) / 3) + 4096,
  maxDepth: 1,
  maxElements: 1,
  maxAttributeLength: Math.ceil(((PAYLOAD_LIMITS.maxBytes + 64) * 4) / 3) + 4,
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

function textOf(input: string | Uint8Array, maxBytes: number): string {
  const tooLarge = () => new UftpTransportError('too_large', `the XML is larger than ${maxBytes} bytes`);
  if (typeof input === 'string') {
    if (input.length > maxBytes || Buffer.byteLength(input, 'utf8') > maxBytes) throw tooLarge();
    return input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  }
  if (input.byteLength > maxBytes) throw tooLarge();
  try {
    const text = utf8.decode(input);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch {
    throw new UftpTransportError('malformed_xml', 'the XML is not valid UTF-8');
  }
}

interface OpenNode {
  readonly name: string;
  readonly attributes: Record<string, string>;
  readonly children: XmlNode[];
}

/** Parses UFTP XML into a tree, or throws a UftpTransportError saying why not (`expectedRoot` is checked first). */
export function readXml(input: string | Uint8Array, limits: XmlLimits = PAYLOAD_LIMITS, expectedRoot?: string): XmlNode {
  const text = textOf(input, limits.maxBytes);
  const parser = new SaxesParser({ position: true });
  const at = () => `line ${parser.line}, column ${parser.column}`;
  const forbid = (what: string) => {
    throw new UftpTransportError('forbidden_xml', `${what} is not allowed in a UFTP message (${at()})`);
  };
  const stack: OpenNode[] = [];
  let root: XmlNode | undefined;
  let elements = 0;

  parser.on('error', (error) => {
    throw new UftpTransportError('malformed_xml', `malformed XML: ${error.message}`);
  });
  parser.on('xmldecl', (decl) => {
    if (decl.encoding !== undefined && !/^utf-?8$/i.test(decl.encoding)) forbid(`the encoding ${JSON.stringify(decl.encoding)}`);
  });
  parser.on('doctype', () => forbid('a DOCTYPE'));
  parser.on('processinginstruction', (pi) => forbid(`the processing instruction <?${pi.target}`));
  parser.on('cdata', () => forbid('a CDATA section'));
  parser.on('text', (data) => {
    if (data.trim() !== '') forbid('text content');
  });
  parser.on('opentag', (tag) => {
    if (elements === 0 && expectedRoot !== undefined && tag.name !== expectedRoot) {
      throw new UftpTransportError('invalid_message', `expected <${expectedRoot}>, got <${tag.name}>`);
    }
    elements += 1;
    if (elements > limits.maxElements) throw new UftpTransportError('too_large', `more than ${limits.maxElements} elements`);
    if (stack.length >= limits.maxDepth) throw new UftpTransportError('too_large', `elements nested deeper than ${limits.maxDepth} (${at()})`);
    if (tag.name.includes(':')) forbid(`the prefixed element <${tag.name}>`);
    const attributes: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [name, value] of Object.entries(tag.attributes)) {
      if (name.includes(':') || name === 'xmlns') forbid(`the attribute ${name}`);
      if (value.length > limits.maxAttributeLength) {
        throw new UftpTransportError('too_large', `attribute ${name} of <${tag.name}> is longer than ${limits.maxAttributeLength} characters`);
      }
      attributes[name] = value;
    }
    stack.push({ name: tag.name, attributes, children: [] });
  });
  parser.on('closetag', () => {
    const node = stack.pop()!;
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(node);
    else root = node;
  });

  parser.write(text).close();
  if (!root) throw new UftpTransportError('malformed_xml', 'the XML has no root element');
  return root;
}

// Characters XML 1.0 cannot carry at all (C0 controls other than tab/LF/CR, U+FFFE/U+FFFF, lone surrogates).
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/u;
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };

function escapeAttribute(value: string): string {
  if (NOT_XML.test(value)) throw new UftpEncodeError(`a character XML cannot carry in ${JSON.stringify(value)}`);
  // Tabs and line breaks as character references: an XML parser normalises literal ones to spaces.
  return value.replace(/[&<>"\t\n\r]/g, (c) => ESCAPES[c]!);
}

function writeNode(node: XmlNode, indent: string, out: string[]): void {
  out.push(indent, '<', node.name);
  for (const [name, value] of Object.entries(node.attributes)) out.push(' ', name, '="', escapeAttribute(value), '"');
  if (node.children.length === 0) {
    out.push('/>\n');
    return;
  }
  out.push('>\n');
  for (const child of node.children) writeNode(child, `${indent}  `, out);
  out.push(indent, '</', node.name, '>\n');
}

/** The tree as a UTF-8 XML document with a declaration, one element per line. */
export function writeXml(root: XmlNode): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  writeNode(root, '', out);
  return out.join('');
}
