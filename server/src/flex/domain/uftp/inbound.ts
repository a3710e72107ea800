import { createHash } from 'node:crypto';
import { UftpEncodeError, UftpTransportError } from './errors.js';
import { decodeSignedMessage, seal, unseal, writeSignedMessage, type SigningKey } from './envelope.js';
import { decodeMessage, encodeMessage, maySend, type MessageType, type ResponseMessage, type UftpMessage, type UftpRole } from './messages.js';
import { ENVELOPE_LIMITS, PAYLOAD_LIMITS, writeXml, type XmlLimits, type XmlNode } from './xml.js';

/**
 * The way in and out of a UFTP participant, as pure steps around an injected schema validator
 * (the libxml2 one lives in ../../uftp-schemas.ts): an incoming SignedMessage is read safely,
 * validated, its sender looked up in the address book (plain data), its signature verified, its
 * payload read safely, validated against the schema of its Version and decoded. Every refusal
 * on the way is a UftpTransportError; what follows (the rejection reasons of a valid message)
 * is answered with a signed response, see ../rejections.ts.
 */

export const SCHEMA_VERSIONS = ['3.0.0', '3.1.0'] as const;
export type SchemaVersion = (typeof SCHEMA_VERSIONS)[number];
/** The version Gridshare writes unless a counterpart needs 3.0.0. */
export const WRITTEN_VERSION = '3.1.0';

export interface SchemaValidator {
  /**
   * Reads the XML with the safe reader (xml.ts), picks the schema (given, or chosen from the
   * root element) and validates against it; returns the tree the safe reader built. Throws a
   * UftpTransportError (`not_schema_valid`, `malformed_xml`, `forbidden_xml`, `too_large`, …)
   * unless the XML is valid.
   */
  validate(xml: string | Uint8Array, version: SchemaVersion | ((root: XmlNode) => SchemaVersion), limits?: XmlLimits, expectedRoot?: string): XmlNode;
}

/**
 * The schema a payload is validated against, by its Version: 3.0.x → 3.0.0, 3.1 and later minor
 * versions of 3 → 3.1.0 (minor versions are backwards compatible). A missing Version is
 * validated against 3.1.0, whose schema requires it, so the message is refused with the
 * validator's own words; other major versions are refused outright.
 */
export function schemaVersionOf(version: string | undefined): SchemaVersion {
  if (version === undefined) return '3.1.0';
  const match = /^3\.(\d+)\.\d+$/.exec(version);
  if (!match) throw new UftpTransportError('unsupported_version', `UFTP version ${JSON.stringify(version)} is not supported (3.0 and 3.1 are)`);
  return match[1] === '0' ? '3.0.0' : '3.1.0';
}

/** An address-book entry: a participant's domain and role, its signing keys (two during a rotation). */
export interface Participant {
  readonly domain: string;
  readonly role: UftpRole;
  readonly publicKeys: readonly Uint8Array[];
  /** Messages from a barred participant are refused (the specification's "Barred Sender"). */
  readonly barred?: boolean;
}

export interface IncomingMessage {
  /** Who signed it (authenticated): the envelope's SenderDomain and SenderRole. */
  readonly signedBy: { readonly domain: string; readonly role: UftpRole };
  readonly payloadXml: string;
  readonly message: UftpMessage;
  /** SHA-256 of the message's canonical form: equal for the same content however it was formatted. */
  readonly fingerprint: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads, authenticates and validates one SignedMessage. */
export function openSignedMessage(
  xml: string | Uint8Array,
  addressBook: readonly Participant[],
  schemas: SchemaValidator,
): IncomingMessage {
  const envelope = decodeSignedMessage(schemas.validate(xml, '3.1.0', ENVELOPE_LIMITS, 'SignedMessage'));
  const sender = addressBook.find((p) => p.domain === envelope.senderDomain && p.role === envelope.senderRole);
  if (!sender) throw new UftpTransportError('unknown_sender', `${envelope.senderRole} ${envelope.senderDomain} is not in the address book`);
  if (sender.barred) throw new UftpTransportError('barred_sender', `${envelope.senderRole} ${envelope.senderDomain} is barred`);
  const payload = unseal(envelope.body, sender.publicKeys);
  let payloadXml: string;
  try {
    payloadXml = utf8.decode(payload);
  } catch {
    throw new UftpTransportError('malformed_xml', 'the signed payload is not UTF-8');
  }
  const message = readPayload(payloadXml, schemas);
  return { signedBy: { domain: envelope.senderDomain, role: envelope.senderRole }, payloadXml, message, fingerprint: fingerprintOf(message) };
}

/** Reads and validates a payload message (what a SignedMessage body carries). */
export function readPayload(payloadXml: string, schemas: SchemaValidator): UftpMessage {
  return decodeMessage(schemas.validate(payloadXml, (root) => schemaVersionOf(root.attributes.Version), PAYLOAD_LIMITS));
}

export function fingerprintOf(message: UftpMessage): string {
  return createHash('sha256').update(writeXml(encodeMessage(message))).digest('hex');
}

export interface SealedMessage {
  readonly payloadXml: string;
  /** The SignedMessage document to POST (text/xml). */
  readonly signedXml: string;
}

/** Writes, signs and wraps a message from `role`; refuses one that role may not send. */
export function sealMessage(message: UftpMessage, key: SigningKey, role: UftpRole): SealedMessage {
  if (!maySend(message.type, role)) throw new UftpEncodeError(`a ${role} does not send ${message.type}`);
  const payloadXml = writeXml(encodeMessage(message));
  const body = seal(new TextEncoder().encode(payloadXml), key);
  return { payloadXml, signedXml: writeSignedMessage({ senderDomain: message.senderDomain, senderRole: role, body }) };
}

/** Each message answered with a plain Accepted/Rejected response, and the attribute naming it there. */
const SIMPLE_RESPONSES = {
  'D-Prognosis': ['D-PrognosisResponse', 'dPrognosisMessageId'],
  FlexReservationUpdate: ['FlexReservationUpdateResponse', 'flexReservationUpdateMessageId'],
  FlexRequest: ['FlexRequestResponse', 'flexRequestMessageId'],
  FlexOffer: ['FlexOfferResponse', 'flexOfferMessageId'],
  FlexOfferRevocation: ['FlexOfferRevocationResponse', 'flexOfferRevocationMessageId'],
  FlexOrder: ['FlexOrderResponse', 'flexOrderMessageId'],
  Metering: ['MeteringResponse', 'meteringMessageId'],
  AGRPortfolioUpdate: ['AGRPortfolioUpdateResponse', 'agrPortfolioUpdateMessageId'],
  DSOPortfolioUpdate: ['DSOPortfolioUpdateResponse', 'dsoPortfolioUpdateMessageId'],
} as const satisfies Partial<Record<MessageType, readonly [MessageType, string]>>;

export type SimplyAnswered = keyof typeof SIMPLE_RESPONSES;

export function isSimplyAnswered(type: MessageType): type is SimplyAnswered {
  return Object.hasOwn(SIMPLE_RESPONSES, type);
}

export interface ResponseIds {
  readonly messageId: string;
  readonly nowMs: number;
  readonly version?: string;
}

/**
 * The metadata and result of a response to a message: same conversation, sender and recipient
 * swapped, Accepted without a reason or Rejected with one (the specification's RejectionReason text).
 */
export function responseHeader(message: UftpMessage, ids: ResponseIds, rejectionReason?: string) {
  return {
    version: ids.version ?? WRITTEN_VERSION,
    senderDomain: message.recipientDomain,
    recipientDomain: message.senderDomain,
    timeStamp: ids.nowMs,
    messageId: ids.messageId,
    conversationId: message.conversationId,
    result: rejectionReason === undefined ? 'Accepted' as const : 'Rejected' as const,
    ...(rejectionReason === undefined ? {} : { rejectionReason }),
  };
}

/** The plain response to a message (see responseHeader); FlexSettlement has its own (settlement.ts). */
export function respondTo(message: Extract<UftpMessage, { type: SimplyAnswered }>, ids: ResponseIds, rejectionReason?: string): ResponseMessage {
  const [type, reference] = SIMPLE_RESPONSES[message.type];
  return {
    type,
    ...responseHeader(message, ids, rejectionReason),
    [reference]: message.messageId,
    ...(type === 'D-PrognosisResponse' ? { flexOrderStatuses: [] } : {}),
  } as ResponseMessage;
}
