import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, MESSAGE_TYPES, type FlexOffer, type FlexOrder, type FlexRequest } from '../../src/flex/domain/uftp/messages.js';
import { readPayload, respondTo, schemaVersionOf } from '../../src/flex/domain/uftp/inbound.js';
import { readXml, writeXml } from '../../src/flex/domain/uftp/xml.js';
import { activationFactor, currencyAmount, dateTime, minutesDuration } from '../../src/flex/domain/uftp/values.js';
import { UftpEncodeError } from '../../src/flex/domain/uftp/errors.js';
import { defaultSchemaDirectory, SCHEMA_DIRECTORY_VARIABLE, VENDORED_SCHEMA_DIRECTORY } from '../../src/flex/uftp-schemas.js';
import { example, flexRequest, NOW, oneOfEach, schemas, UFTP_DIR, uftpPresent, refusal } from './support.js';

describe.skipIf(!uftpPresent)('UFTP: the reference conversation (shared/uftp/examples)', () => {
  const files = uftpPresent ? readdirSync(`${UFTP_DIR}examples`).filter((f) => f.endsWith('.xml') && !f.startsWith('SignedMessage')) : [];

  it.each(files)('%s parses, validates against its 3.0.0 schema and against 3.1.0', (file) => {
    const xml = example(file);
    const message = readPayload(xml, schemas());
    expect(message.version).toBe('3.0.0');
    expect(() => schemas().validate(xml, '3.1.0')).not.toThrow();
  });

  it('reads the conversation’s figures as typed values', () => {
    const request = readPayload(example('FlexRequest.xml'), schemas()) as FlexRequest;
    expect(request.type).toBe('FlexRequest');
    expect(request.isps).toHaveLength(96);
    expect(request.expirationDateTime).toBe(Date.UTC(2021, 9, 29, 22, 15));
    const requested = request.isps.filter((i) => i.disposition === 'Requested');
    expect(requested.map((i) => i.start)).toEqual(Array.from({ length: 16 }, (_, k) => 46 + k));
    expect(requested[0]).toEqual({ disposition: 'Requested', minPower: 5, maxPower: 5, start: 46, duration: 1 });
    const offer = readPayload(example('FlexOffer.xml'), schemas()) as FlexOffer;
    expect(offer.flexRequestMessageId).toBe(request.messageId);
    expect(offer.conversationId).toBe(request.conversationId);
    // .NET's seven fraction digits are cut to milliseconds, never rounded up.
    expect(offer.timeStamp).toBe(Date.UTC(2021, 9, 29, 6, 54, 36, 886));
    expect(offer.offerOptions[0]!.isps.find((i) => i.start === 57)!.power).toBe(14);
    expect(offer.offerOptions[0]!.minActivationFactor).toBe(100);
    const order = readPayload(example('FlexOrder.xml'), schemas()) as FlexOrder;
    expect(order.flexOfferMessageId).toBe(offer.messageId);
    expect(order.price).toBe(0n);
    expect(order.isps.map((i) => i.power)).toEqual(offer.offerOptions[0]!.isps.map((i) => i.power));
  });

  it('reads what the Java library reads and what it writes back as the same message', () => {
    for (const name of ['FlexRequest', 'FlexOffer', 'FlexOrder', 'FlexOrderResponse', 'FlexOfferResponse', 'FlexRequestResponse']) {
      expect(readPayload(example(`${name}.expected.xml`), schemas())).toEqual(readPayload(example(`${name}.xml`), schemas()));
    }
  });

  it.each(uftpPresent ? readdirSync(`${UFTP_DIR}examples/no-version`) : [])('no-version/%s is refused against 3.x: Version is required', (file) => {
    const xml = example(`no-version/${file}`);
    expect(refusal(() => readPayload(xml, schemas()))).toBe('not_schema_valid');
    expect(() => readPayload(xml, schemas())).toThrow(/Version/);
    expect(refusal(() => schemas().validate(xml, '3.0.0'))).toBe('not_schema_valid');
  });

  it('the SignedMessage envelope of the examples validates', () => {
    expect(() => schemas().validate(example('SignedMessage.xml'), '3.1.0')).not.toThrow();
  });
});

describe('UFTP: the schemas ship with Gridshare', () => {
  it('the default is the vendored 3.0.0 and 3.1.0 copy, with its licence and source; $UFTP_XSD_DIR overrides it', () => {
    const configured = process.env[SCHEMA_DIRECTORY_VARIABLE];
    try {
      delete process.env[SCHEMA_DIRECTORY_VARIABLE];
      expect(defaultSchemaDirectory()).toBe(VENDORED_SCHEMA_DIRECTORY);
      process.env[SCHEMA_DIRECTORY_VARIABLE] = '/elsewhere/uftp-xsd';
      expect(defaultSchemaDirectory()).toBe('/elsewhere/uftp-xsd');
    } finally {
      if (configured === undefined) delete process.env[SCHEMA_DIRECTORY_VARIABLE];
      else process.env[SCHEMA_DIRECTORY_VARIABLE] = configured;
    }
    for (const version of ['3.0.0', '3.1.0']) expect(readdirSync(`${VENDORED_SCHEMA_DIRECTORY}/${version}`)).toHaveLength(8);
    expect(readFileSync(`${VENDORED_SCHEMA_DIRECTORY}/NOTICE`, 'utf8')).toContain('github.com/shapeshifter/shapeshifter-specification');
    expect(readFileSync(`${VENDORED_SCHEMA_DIRECTORY}/LICENSE`, 'utf8')).toContain('Apache License');
  });
});

describe('UFTP: everything Gridshare writes validates against the XSDs', () => {
  const messages = oneOfEach();

  it('covers every message type of the schemas', () => {
    expect(new Set(messages.map((m) => m.type))).toEqual(new Set(MESSAGE_TYPES));
  });

  it.each(messages.map((m, i) => [`${m.type} #${i}`, m] as const))('%s validates against 3.1.0 and reads back equal', (_name, message) => {
    const xml = writeXml(encodeMessage(message));
    expect(() => schemas().validate(xml, '3.1.0')).not.toThrow();
    expect(readPayload(xml, schemas())).toEqual(message);
  });

  it('a 3.0.0 message without 3.1-only attributes validates against 3.0.0; with them it does not', () => {
    const request = flexRequest({ version: '3.0.0' });
    expect(() => readPayload(writeXml(encodeMessage(request)), schemas())).not.toThrow();
    const unsolicited = oneOfEach().find((m) => m.type === 'FlexOffer' && m.unsolicited)!;
    expect(refusal(() => readPayload(writeXml(encodeMessage({ ...unsolicited, version: '3.0.0' })), schemas()))).toBe('not_schema_valid');
  });

  it('responses written with respondTo validate, Accepted and Rejected', () => {
    const request = flexRequest();
    for (const reason of [undefined, 'ISP conflict: ISP 2 addressed more than once']) {
      const response = respondTo(request, { messageId: '11111111-2222-4333-8444-555555555555', nowMs: NOW }, reason);
      const xml = writeXml(encodeMessage(response));
      expect(() => schemas().validate(xml, '3.1.0')).not.toThrow();
      expect(response).toMatchObject({ type: 'FlexRequestResponse', senderDomain: request.recipientDomain, recipientDomain: request.senderDomain, conversationId: request.conversationId, flexRequestMessageId: request.messageId });
      expect(response.result).toBe(reason === undefined ? 'Accepted' : 'Rejected');
    }
  });

  it('the schema catches what the typed model cannot: an element order or count the XSD forbids', () => {
    const settlement = oneOfEach().find((m) => m.type === 'FlexSettlement')!;
    const tree = encodeMessage(settlement);
    const reordered = { ...tree, children: [...tree.children].reverse() };
    expect(refusal(() => schemas().validate(writeXml(reordered), '3.1.0'))).toBe('not_schema_valid');
  });
});

describe('UFTP: the typed model reads strictly', () => {
  const requestXml = writeXml(encodeMessage(flexRequest()));

  it('refuses an unknown attribute, an unknown element, a missing attribute and a mistyped value, naming the place', () => {
    expect(() => decodeMessage(readXml(requestXml.replace('<FlexRequest ', '<FlexRequest Colour="red" ')))).toThrow(/\/FlexRequest: unknown attribute Colour/);
    expect(() => decodeMessage(readXml(requestXml.replace('</FlexRequest>', '<Extra/></FlexRequest>')))).toThrow(/unknown element <Extra>/);
    expect(() => decodeMessage(readXml(requestXml.replace(/ Revision="1"/, '')))).toThrow(/Revision is required/);
    expect(() => decodeMessage(readXml(requestXml.replace('MinPower="-20000"', 'MinPower="-2e4"')))).toThrow(/ISP\[2\]\/@MinPower: not an integer/);
    expect(() => decodeMessage(readXml(requestXml.replace(/<ISP [^>]*\/>\s*/g, '')))).toThrow(/0 <ISP> elements/);
    expect(() => decodeMessage(readXml('<Invoice/>'))).toThrow(/not a UFTP payload message/);
    expect(() => decodeMessage(readXml('<toString/>'))).toThrow(/not a UFTP payload message/);
  });

  it('refuses powers beyond exact integers rather than rounding them', () => {
    expect(() => decodeMessage(readXml(requestXml.replace('MaxPower="-5000"', 'MaxPower="99999999999999999"')))).toThrow(/MaxPower/);
  });

  it('reads and writes the value types exactly', () => {
    expect(dateTime.parse('2021-10-29T06:54:36.8868538Z')).toBe(Date.UTC(2021, 9, 29, 6, 54, 36, 886));
    expect(dateTime.parse('2021-10-29T08:54:36+02:00')).toBe(Date.UTC(2021, 9, 29, 6, 54, 36));
    expect(dateTime.parse('2021-10-29T24:00:00Z')).toBe(Date.UTC(2021, 9, 30));
    for (const bad of ['2021-10-29T06:54:36', '2021-02-29T00:00:00Z', '2021-10-29T24:00:01Z', '2021-10-29T06:54:36+15:00', 'yesterday']) expect(dateTime.parse(bad)).toBeUndefined();
    expect(minutesDuration.parse('PT15M')).toBe(15);
    expect(minutesDuration.parse('PT1H')).toBe(60);
    expect(minutesDuration.parse('PT900S')).toBe(15);
    for (const bad of ['P1M', 'PT', 'PT30S', 'PT0M', '15']) expect(minutesDuration.parse(bad)).toBeUndefined();
    expect(currencyAmount.parse('12.5')).toBe(12_500_000_000n);
    expect(currencyAmount.parse('-.0001')).toBe(-100_000n);
    expect(currencyAmount.parse('12.00001')).toBeUndefined();
    expect(currencyAmount.format(12_500_000_000n)).toBe('12.5');
    expect(() => currencyAmount.format(1n)).toThrow(UftpEncodeError);
    expect(activationFactor.parse('1')).toBe(100);
    expect(activationFactor.parse('0.8')).toBe(80);
    for (const bad of ['0', '1.01', '0.005', '-0.5']) expect(activationFactor.parse(bad)).toBeUndefined();
  });

  it('routes each Version to its schema and refuses other major versions', () => {
    expect(schemaVersionOf('3.0.0')).toBe('3.0.0');
    expect(schemaVersionOf('3.1.0')).toBe('3.1.0');
    expect(schemaVersionOf('3.2.7')).toBe('3.1.0');
    expect(schemaVersionOf(undefined)).toBe('3.1.0');
    expect(refusal(() => schemaVersionOf('2.0.0'))).toBe('unsupported_version');
    expect(refusal(() => schemaVersionOf('4.0.0'))).toBe('unsupported_version');
  });

  it('never writes what XML cannot carry, and escapes what it can', () => {
    const request = flexRequest({ contractId: 'A&B <"x">\ty' });
    const back = decodeMessage(readXml(writeXml(encodeMessage(request)))) as FlexRequest;
    expect(back.contractId).toBe('A&B <"x">\ty');
    expect(() => writeXml(encodeMessage(flexRequest({ contractId: 'bell\u0007' })))).toThrow(UftpEncodeError);
    expect(() => encodeMessage(flexRequest({ senderDomain: 'Not A Domain' }))).toThrow(UftpEncodeError);
  });
});
