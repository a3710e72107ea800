import { FrameError } from '../decoder.js';
import { SmlReader, type SmlNode } from './tl.js';

/** SML 1.04 message body tags (SML_MessageBody choice). */
export const SML_TAG = {
  openResponse: 0x0101,
  closeResponse: 0x0201,
  getListResponse: 0x0701,
} as const;

/** An SML_Time: seconds since the meter started (secIndex) or seconds since 1970 (timestamp). */
export type SmlTime =
  | { readonly kind: 'secIndex'; readonly seconds: number }
  | { readonly kind: 'timestamp'; readonly seconds: number };

/** One SML_ListEntry of a GetListResponse's valList. */
export interface SmlListEntry {
  /** The OBIS code A B C D E F. */
  readonly objName: readonly [number, number, number, number, number, number];
  readonly status?: bigint | undefined;
  readonly valTime?: SmlTime | undefined;
  /** DLMS unit code (IEC 62056-62), e.g. 27 W, 30 Wh. */
  readonly unit?: number | undefined;
  readonly scaler: number;
  readonly value: SmlNode;
}

export interface SmlOpenResponse {
  readonly kind: 'open';
  readonly serverId?: Uint8Array | undefined;
  readonly refTime?: SmlTime | undefined;
}

export interface SmlGetListResponse {
  readonly kind: 'getList';
  readonly serverId?: Uint8Array | undefined;
  readonly listName?: Uint8Array | undefined;
  readonly actSensorTime?: SmlTime | undefined;
  readonly entries: readonly SmlListEntry[];
  readonly actGatewayTime?: SmlTime | undefined;
}

export interface SmlCloseResponse {
  readonly kind: 'close';
}

/** Any other message (requests, profiles, attention responses): kept as its tag only. */
export interface SmlOtherMessage {
  readonly kind: 'other';
  readonly tag: number;
}

export type SmlMessage = SmlOpenResponse | SmlGetListResponse | SmlCloseResponse | SmlOtherMessage;

/** At most this many messages in one SML file (meters send three). */
const MAX_MESSAGES = 64;

function fail(what: string): never {
  throw new FrameError('format', `SML: ${what}`);
}

function list(node: SmlNode | undefined, length: number, what: string): readonly SmlNode[] {
  if (node?.type !== 'list') fail(`${what} is not a list`);
  if (node.items.length !== length) fail(`${what} has ${node.items.length} elements, not ${length}`);
  return node.items;
}

function optionalOctets(node: SmlNode | undefined, what: string): Uint8Array | undefined {
  if (node === undefined || node.type === 'absent') return undefined;
  if (node.type !== 'octets') fail(`${what} is not an octet string`);
  return node.bytes;
}

function optionalInteger(node: SmlNode | undefined, what: string): bigint | undefined {
  if (node === undefined || node.type === 'absent') return undefined;
  if (node.type !== 'integer') fail(`${what} is not an integer`);
  return node.value;
}

/**
 * An SML_Time is a choice [tag, value]: 1 secIndex, 2 timestamp (uint32), 3 localTimestamp
 * [timestamp, localOffset, seasonTimeOffset]. Some meters (Holley DTZ541) put a bare integer in
 * valTime instead; that, like anything else unexpected there, reads as no time.
 */
function smlTime(node: SmlNode | undefined): SmlTime | undefined {
  if (node?.type !== 'list' || node.items.length !== 2) return undefined;
  const [tagNode, valueNode] = node.items;
  if (tagNode?.type !== 'integer') return undefined;
  const tag = Number(tagNode.value);
  if (tag === 1 && valueNode?.type === 'integer') return { kind: 'secIndex', seconds: Number(valueNode.value) };
  if (tag === 2 && valueNode?.type === 'integer') return { kind: 'timestamp', seconds: Number(valueNode.value) };
  if (tag === 3 && valueNode?.type === 'list' && valueNode.items[0]?.type === 'integer') {
    return { kind: 'timestamp', seconds: Number(valueNode.items[0].value) };
  }
  return undefined;
}

function listEntry(node: SmlNode, index: number): SmlListEntry {
  const [objName, status, valTime, unit, scaler, value] = list(node, 7, `valList entry ${index}`);
  const name = optionalOctets(objName, `objName of entry ${index}`);
  if (!name || name.length !== 6) fail(`objName of entry ${index} is not a 6-byte OBIS code`);
  const unitCode = optionalInteger(unit, `unit of entry ${index}`);
  const scale = optionalInteger(scaler, `scaler of entry ${index}`) ?? 0n;
  if (scale < -128n || scale > 255n) fail(`scaler ${scale} of entry ${index} is not one byte`);
  // An int8 sent as uint8 (62 FF): read it as the signed byte it is.
  const signedScale = scale > 127n ? Number(scale) - 256 : Number(scale);
  if (unitCode !== undefined && (unitCode < 0n || unitCode > 255n)) fail(`unit ${unitCode} of entry ${index} is not a DLMS unit`);
  return {
    objName: [name[0]!, name[1]!, name[2]!, name[3]!, name[4]!, name[5]!],
    status: status?.type === 'integer' ? status.value : undefined,
    valTime: smlTime(valTime),
    unit: unitCode === undefined ? undefined : Number(unitCode),
    scaler: signedScale,
    value: value!,
  };
}

function body(tag: number, choice: SmlNode): SmlMessage {
  switch (tag) {
    case SML_TAG.openResponse: {
      const [, , , serverId, refTime] = list(choice, 6, 'OpenResponse');
      return { kind: 'open', serverId: optionalOctets(serverId, 'OpenResponse serverId'), refTime: smlTime(refTime) };
    }
    case SML_TAG.getListResponse: {
      const [, serverId, listName, actSensorTime, valList, , actGatewayTime] = list(choice, 7, 'GetListResponse');
      if (valList?.type !== 'list') fail('GetListResponse valList is not a list');
      return {
        kind: 'getList',
        serverId: optionalOctets(serverId, 'GetListResponse serverId'),
        listName: optionalOctets(listName, 'GetListResponse listName'),
        actSensorTime: smlTime(actSensorTime),
        entries: valList.items.map(listEntry),
        actGatewayTime: smlTime(actGatewayTime),
      };
    }
    case SML_TAG.closeResponse:
      return { kind: 'close' };
    default:
      return { kind: 'other', tag };
  }
}

/**
 * Parses an SML file (the transport payload) into its messages. Each message is
 * [transactionId, groupNo, abortOnError, messageBody [tag, choice], crc16, endOfSmlMsg 00].
 * The per-message CRC is not checked: the transport checksum already covers those bytes.
 */
export function parseSmlFile(payload: Uint8Array): SmlMessage[] {
  const reader = new SmlReader(payload);
  const messages: SmlMessage[] = [];
  while (reader.remaining > 0) {
    if (messages.length >= MAX_MESSAGES) fail(`more than ${MAX_MESSAGES} messages`);
    const at = reader.position;
    const node = reader.read();
    if (node.type === 'end') fail(`a stray 00 at byte ${at}`);
    const [, , , messageBody, crc, end] = list(node, 6, `message at byte ${at}`);
    if (end?.type !== 'end') fail(`message at byte ${at} does not end in 00`);
    if (crc?.type !== 'integer') fail(`message at byte ${at} has no CRC field`);
    const [tag, choice] = list(messageBody, 2, `body of the message at byte ${at}`);
    if (tag?.type !== 'integer') fail(`message at byte ${at}: the body tag is not an integer`);
    messages.push(body(Number(tag.value), choice!));
  }
  if (messages.length === 0) fail('no message');
  return messages;
}
