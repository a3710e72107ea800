import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ParseOption, XmlDocument } from 'libxml2-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePublicKey, seal, signingKeyFromSecret, writeSignedMessage } from '../../src/flex/domain/uftp/envelope.js';
import { openSignedMessage, readPayload, type Participant } from '../../src/flex/domain/uftp/inbound.js';
import { encodeMessage } from '../../src/flex/domain/uftp/messages.js';
import { ENVELOPE_LIMITS, readXml, writeXml } from '../../src/flex/domain/uftp/xml.js';
import { DSO, flexRequest, publishedKeyPairs, schemas, uftpPresent, refusal } from './support.js';

/**
 * Hostile XML: external entities and DTDs (XXE), requests to internal addresses (SSRF), entity
 * expansion, schema-location and XInclude hints, deep nesting, huge attributes. A real HTTP
 * server on loopback stands in for an internal service: every hostile document points at it,
 * and it must receive nothing — while a control request shows it was there to be reached.
 */

let server: Server;
let base = '';
const received: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    received.push(request.url ?? '');
    response.writeHead(200, { 'content-type': 'application/xml' });
    response.end('<!ENTITY secret "leaked">');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const control = await fetch(`${base}/control`);
  expect(control.status).toBe(200);
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const request = () => writeXml(encodeMessage(flexRequest())).replace('<?xml version="1.0" encoding="UTF-8"?>\n', '');
const withPrologue = (prologue: string, body = request()) => `<?xml version="1.0" encoding="UTF-8"?>\n${prologue}\n${body}`;

const hostile = (): Array<[string, string]> => [
  ['external general entity (XXE)', withPrologue(`<!DOCTYPE FlexRequest [<!ENTITY xxe SYSTEM "${base}/xxe">]>`, request().replace('Revision="1"', 'Revision="1" ContractID="&xxe;"'))],
  ['local file entity', withPrologue('<!DOCTYPE FlexRequest [<!ENTITY file SYSTEM "file:///etc/passwd">]>', request().replace('Revision="1"', 'Revision="1" ContractID="&file;"'))],
  ['external DTD', withPrologue(`<!DOCTYPE FlexRequest SYSTEM "${base}/dtd">`)],
  ['external parameter entity', withPrologue(`<!DOCTYPE FlexRequest [<!ENTITY % remote SYSTEM "${base}/pe"> %remote;]>`)],
  ['billion laughs', withPrologue(`<!DOCTYPE FlexRequest [<!ENTITY a "aaaaaaaaaa">${Array.from({ length: 9 }, (_, k) => `<!ENTITY ${String.fromCharCode(98 + k)} "${`&${String.fromCharCode(97 + k)};`.repeat(10)}">`).join('')}]>`, request().replace('Revision="1"', 'Revision="1" ContractID="&j;"'))],
  ['schema location hint', request().replace('<FlexRequest ', `<FlexRequest xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="${base}/schema.xsd" `)],
  ['XInclude', request().replace('</FlexRequest>', `<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="${base}/xinclude" parse="xml"/></FlexRequest>`)],
  ['stylesheet processing instruction', withPrologue(`<?xml-stylesheet type="text/xsl" href="${base}/xsl"?>`)],
  ['default namespace', request().replace('<FlexRequest ', `<FlexRequest xmlns="${base}/ns" `)],
];

describe.skipIf(!uftpPresent)('UFTP: hostile XML is refused and nothing is fetched', () => {
  it('every hostile payload is refused by the safe reader, the schema validator and the full SignedMessage path', () => {
    const pair = publishedKeyPairs().find((p) => p.id.startsWith('python-demo-dso'))!;
    const key = signingKeyFromSecret(pair.secretKey_b64);
    const addressBook: Participant[] = [{ domain: DSO, role: 'DSO', publicKeys: [parsePublicKey(pair.publicKey_b64)] }];
    for (const [name, xml] of hostile()) {
      const expected = 'forbidden_xml';
      expect(refusal(() => readXml(xml)), name).toBe(expected);
      expect(refusal(() => readPayload(xml, schemas())), name).toBe(expected);
      expect(refusal(() => schemas().validate(xml, '3.1.0')), name).toBe(expected);
      // Signed by a known DSO, so it gets past the signature to the payload.
      const envelope = writeSignedMessage({ senderDomain: DSO, senderRole: 'DSO', body: seal(new TextEncoder().encode(xml), key) });
      expect(refusal(() => openSignedMessage(envelope, addressBook, schemas())), name).toBe(expected);
    }
    // The envelope itself may not smuggle a DTD either.
    const dtdEnvelope = `<!DOCTYPE SignedMessage [<!ENTITY xxe SYSTEM "${base}/envelope">]><SignedMessage SenderDomain="dso.example.org" SenderRole="DSO" Body="&xxe;"/>`;
    expect(refusal(() => openSignedMessage(dtdEnvelope, addressBook, schemas()))).toBe('forbidden_xml');
    expect(received).toEqual(['/control']);
  });

  it('even libxml2 alone, with the parse options Gridshare gives it, fetches nothing (the second line of defence)', () => {
    for (const [name, xml] of hostile()) {
      try {
        XmlDocument.fromString(xml, { option: ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE }).dispose();
      } catch {
        // A parse error is fine; a request is not.
      }
      expect(received, name).toEqual(['/control']);
    }
  });
});

describe('UFTP: hostile sizes cost at most their size', () => {
  it('refuses deep nesting without recursing into it', () => {
    const deep = `<FlexRequest>${'<ISP>'.repeat(100_000)}${'</ISP>'.repeat(100_000)}</FlexRequest>`;
    expect(refusal(() => readXml(deep))).toBe('too_large');
  });

  it('refuses a huge attribute, too many elements and a document over the byte limit', () => {
    expect(refusal(() => readXml(request().replace('Revision="1"', `Revision="1" ContractID="${'x'.repeat(100_000)}"`)))).toBe('too_large');
    expect(refusal(() => readXml(`<FlexRequest>${'<ISP/>'.repeat(250_000)}</FlexRequest>`))).toBe('too_large');
    expect(refusal(() => readXml(`<FlexRequest ContractID="${'x'.repeat(5 * 1024 * 1024)}"/>`))).toBe('too_large');
    expect(refusal(() => readXml(`<SignedMessage SenderDomain="a.org" SenderRole="DSO" Body="${'A'.repeat(ENVELOPE_LIMITS.maxBytes)}"/>`, ENVELOPE_LIMITS))).toBe('too_large');
  });

  it('refuses malformed input, other encodings, text and CDATA, and reads comments', () => {
    expect(refusal(() => readXml('<FlexRequest'))).toBe('malformed_xml');
    expect(refusal(() => readXml('<a></b>'))).toBe('malformed_xml');
    expect(refusal(() => readXml('<a>&undefined;</a>'))).toBe('malformed_xml');
    expect(refusal(() => readXml(Uint8Array.of(0x3c, 0x61, 0xff, 0x2f, 0x3e)))).toBe('malformed_xml');
    expect(refusal(() => readXml('<?xml version="1.0" encoding="UTF-16"?><a/>'))).toBe('forbidden_xml');
    expect(refusal(() => readXml('<a>text</a>'))).toBe('forbidden_xml');
    expect(refusal(() => readXml('<a><![CDATA[x]]></a>'))).toBe('forbidden_xml');
    expect(refusal(() => readXml(''))).toBe('malformed_xml');
    expect(readXml('<!-- licence header --><a b="&amp;&#65;"><!-- note --><c/></a>')).toEqual({ name: 'a', attributes: { b: '&A' }, children: [{ name: 'c', attributes: {}, children: [] }] });
  });
});
