import { QUANTITY_UNITS, type Quantity, type Reading } from '../../../kernel/quantities.js';
import { FrameError, type DecodedFrame, type DecodeOptions, type MeterDecoder } from '../decoder.js';
import { OBIS } from '../obis.js';
import { exactValue } from '../exact.js';
import { registerDecoder } from '../registry.js';
import { parseSmlFile, type SmlListEntry, type SmlTime } from '../sml/messages.js';
import { startsWithSmlEscape, unwrapSmlTransport } from '../sml/transport.js';

/** DLMS units (IEC 62056-62) in the vocabulary's spelling; 255 is a count, no unit. */
const DLMS_UNITS: Readonly<Record<number, string>> = {
  13: 'm3', 27: 'W', 29: 'var', 30: 'Wh', 32: 'varh', 33: 'A', 35: 'V', 44: 'Hz', 56: '%', 255: '1',
};

/** Signed active power (import minus export): total 16.7.0 and per phase 36/56/76.7.0. */
const SIGNED_POWER: Readonly<Record<string, readonly [Quantity, Quantity]>> = {
  '16.7.0': ['power.import', 'power.export'],
  '36.7.0': ['power.import.l1', 'power.export.l1'],
  '56.7.0': ['power.import.l2', 'power.export.l2'],
  '76.7.0': ['power.import.l3', 'power.export.l3'],
};

/** A negative import power is export: the quantity it then belongs to. */
const EXPORT_OF: Partial<Record<Quantity, Quantity>> = {
  'power.import': 'power.export',
  'power.import.l1': 'power.export.l1',
  'power.import.l2': 'power.export.l2',
  'power.import.l3': 'power.export.l3',
};

/** The meter's identity: 0.0.9 (server id) and 96.1.0 (serial number). */
const METER_ID_CODES: ReadonlySet<string> = new Set(['0.0.9', '96.1.0']);
/** A "timestamp" outside 2000–2100 is a meter without a set clock (or a corrupted one). */
const EARLIEST_CLOCK = Date.UTC(2000, 0, 1) / 1000;
const LATEST_CLOCK = Date.UTC(2100, 0, 1) / 1000;

const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex').toUpperCase();

/** Printable ASCII as text, anything else (binary server ids, public keys) as hex. */
function octetText(bytes: Uint8Array): string {
  for (const b of bytes) if (b < 0x20 || b > 0x7e) return hexOf(bytes);
  return Buffer.from(bytes).toString('latin1');
}


function timeOf(time: SmlTime | undefined): Date | undefined {
  if (time?.kind !== 'timestamp' || time.seconds < EARLIEST_CLOCK || time.seconds >= LATEST_CLOCK) return undefined;
  return new Date(time.seconds * 1000);
}

/**
 * SML 1.04 as German smart meters (eHZ, "moderne Messeinrichtung") push it on their optical
 * interface: every GetListResponse value list entry is an OBIS code, a DLMS unit, a scaler and
 * a value. Current registers (F = 255) of electricity (A = 1) become readings when their unit is
 * the vocabulary's; everything else (manufacturer, public key, status, historical registers,
 * values in another unit) goes to `extra` under its full OBIS code. The time is the list's
 * actSensorTime when the meter sends a real timestamp; meters mostly send seconds since power-up,
 * and then the receive time is used.
 */
export function decodeSml(frame: Uint8Array, options: DecodeOptions): DecodedFrame {
  const { payload, checksum } = unwrapSmlTransport(frame, options.ignoreCrc ?? false);
  const messages = parseSmlFile(payload);
  const lists = messages.flatMap((m) => (m.kind === 'getList' ? [m] : []));
  if (lists.length === 0) throw new FrameError('format', 'the SML file holds no GetListResponse');
  const meterTime = lists.map((l) => timeOf(l.actSensorTime)).find((t) => t !== undefined);
  const at = meterTime ?? options.receivedAt;
  if (!at) throw new FrameError('format', 'the SML file carries no clock time: a receive time is needed');
  const ts = at.toISOString();

  const readings: Reading[] = [];
  const seen = new Set<Quantity>();
  const extra: Record<string, string | number> = {};
  if (checksum !== 'none') extra.checksum = checksum;
  let meterId: string | undefined;
  const emit = (quantity: Quantity, value: number, key: string): void => {
    // Two entries for one quantity: the first is the reading, the other is kept aside.
    if (seen.has(quantity)) extra[key] = value;
    else readings.push({ ts, quantity, value, unit: QUANTITY_UNITS[quantity] });
    seen.add(quantity);
  };

  for (const entry of lists.flatMap((l) => l.entries)) {
    const [a, b, c, d, e, f] = entry.objName;
    const code = `${c}.${d}.${e}`;
    const key = `${a}-${b}:${code}*${f}`;
    const value = entry.value;
    if (value.type === 'octets') {
      const text = octetText(value.bytes);
      if (METER_ID_CODES.has(code) && f === 255 && meterId === undefined) meterId = text;
      else extra[key] = text;
      continue;
    }
    if (value.type === 'boolean') {
      extra[key] = value.value ? 1 : 0;
      continue;
    }
    if (value.type !== 'integer') continue; // absent, or a list SML does not define for values
    const number = exactValue(value.value, entry.scaler);
    const reading = a === 1 && f === 255 ? readingOf(code, entry, number) : undefined;
    if (!reading) {
      extra[key] = number;
      continue;
    }
    for (const [quantity, v] of reading) emit(quantity, v, key);
  }

  const serverId = lists.find((l) => l.serverId)?.serverId ?? messages.flatMap((m) => (m.kind === 'open' && m.serverId ? [m.serverId] : []))[0];
  if (serverId) extra.serverId = hexOf(serverId);
  if (readings.length === 0) throw new FrameError('format', 'the SML file holds no reading Gridshare knows');
  return { format: 'sml', meterId: meterId ?? (serverId ? hexOf(serverId) : undefined), readings, extra };
}

/** The readings one current electricity entry makes, or undefined when it is not one of ours. */
function readingOf(code: string, entry: SmlListEntry, value: number): [Quantity, number][] | undefined {
  const unit = entry.unit === undefined ? undefined : DLMS_UNITS[entry.unit];
  const signed = SIGNED_POWER[code];
  if (signed) {
    if (unit !== 'W') return undefined;
    // Both directions, always: the one not flowing is 0.
    return [[signed[0], Math.max(0, value)], [signed[1], Math.max(0, -value)]];
  }
  const mapping = OBIS[code];
  if (!mapping) return undefined;
  const expected = QUANTITY_UNITS[mapping.quantity];
  if (unit !== expected && !(expected === '1' && unit === undefined)) return undefined;
  if (value >= 0 || expected === '1') return [[mapping.quantity, value]];
  const exported = EXPORT_OF[mapping.quantity];
  return exported ? [[exported, -value]] : undefined;
}

export const sml: MeterDecoder = {
  name: 'sml',
  detect: startsWithSmlEscape,
  decode: decodeSml,
};

registerDecoder(sml);
