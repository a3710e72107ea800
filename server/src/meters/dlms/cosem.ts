import { QUANTITY_UNITS, type Reading } from '../../readings/quantities.js';
import { FrameError, type DecodedFrame, type DecodeOptions } from '../decoder.js';
import { OBIS } from '../obis.js';
import { AxdrReader, cosemDateTime, type DlmsData } from './axdr.js';

const DATA_NOTIFICATION = 0x0f;

/** DLMS unit enumeration (IEC 62056-6-2) for the units of the vocabulary. */
const DLMS_UNITS: Readonly<Record<number, string>> = { 27: 'W', 29: 'var', 30: 'Wh', 32: 'varh', 33: 'A', 35: 'V', 44: 'Hz', 255: '1' };
/** Reactive power and apparent values have no quantity; they are kept in `extra`. */
const EXTRA_OBIS: Readonly<Record<string, string>> = { '3.7.0': 'reactivePower.import', '4.7.0': 'reactivePower.export', '0.2.0': 'firmware' };

type Token =
  | { kind: 'obis'; code: string; medium: number; f: number }
  | { kind: 'value'; data: DlmsData }
  | { kind: 'scaler'; scaler: number; unit: number };

const isObis = (d: DlmsData): d is Extract<DlmsData, { type: 'octets' }> => d.type === 'octets' && d.tag === 0x09 && d.bytes.length === 6;

/**
 * Meters lay the pushed list out in several ways (flat triplets, structures of obis/value/scaler,
 * pairs without scaler). Flattened depth-first, all of them read as: OBIS code, value, and
 * optionally a scaler-unit pair (a structure of an int8 and an enum).
 */
function tokens(data: DlmsData, out: Token[] = []): Token[] {
  if (data.type === 'structure' || data.type === 'array') {
    const [a, b] = data.items;
    if (data.items.length === 2 && a?.type === 'integer' && a.tag === 0x0f && b?.type === 'enum') {
      out.push({ kind: 'scaler', scaler: Number(a.value), unit: b.value });
      return out;
    }
    for (const item of data.items) tokens(item, out);
    return out;
  }
  if (isObis(data)) {
    const [medium, , c, d, e, f] = data.bytes as unknown as number[];
    out.push({ kind: 'obis', code: `${c}.${d}.${e}`, medium: medium!, f: f! });
  } else out.push({ kind: 'value', data });
  return out;
}

function text(bytes: Uint8Array): string {
  const ascii = Buffer.from(bytes).toString('latin1');
  return /^[\x20-\x7e]*$/.test(ascii) ? ascii : Buffer.from(bytes).toString('hex').toUpperCase();
}

/** value × 10^scaler, exact for negative scalers: the integer is divided once by a power of ten. */
function scaled(value: bigint, scaler: number): number {
  if (scaler < -9 || scaler > 9) throw new FrameError('format', `scaler ${scaler}`);
  return scaler >= 0 ? Number(value * 10n ** BigInt(scaler)) : Number(value) / 10 ** -scaler;
}

/**
 * Reads a DataNotification APDU (0x0F: long-invoke-id, optional date-time, notification body)
 * into readings. Registers and instantaneous values map through the OBIS table; the meter's
 * scaler and unit are applied and the unit must match the quantity's, or the frame is refused.
 */
export function decodeDataNotification(apdu: Uint8Array, options: DecodeOptions, format: string): DecodedFrame {
  const reader = new AxdrReader(apdu);
  if (reader.byte() !== DATA_NOTIFICATION) throw new FrameError('format', 'not a DataNotification APDU');
  reader.take(4);
  const stampLength = reader.byte();
  const stamp = stampLength === 0 ? undefined : stampLength === 12 ? cosemDateTime(reader.take(12)) : undefined;
  if (stampLength !== 0 && stampLength !== 12) throw new FrameError('format', `date-time of ${stampLength} bytes`);
  const body = reader.data();
  if (reader.remaining !== 0) throw new FrameError('format', `${reader.remaining} bytes after the notification body`);

  const list = tokens(body);
  const extra: Record<string, string | number> = {};
  let meterId: string | undefined;
  let clock = stamp;
  // A leading date-time in the body is the notification's time when the header has none.
  if (!clock && list[0]?.kind === 'value' && list[0].data.type === 'octets' && list[0].data.bytes.length === 12) clock = cosemDateTime(list[0].data.bytes);
  const values: { code: string; data: DlmsData; scaler?: { scaler: number; unit: number } }[] = [];
  for (let i = 0; i < list.length; i++) {
    const t = list[i]!;
    if (t.kind !== 'obis') continue;
    const value = list[i + 1];
    if (value?.kind !== 'value') continue;
    const next = list[i + 2];
    values.push({ code: t.medium === 1 ? t.code : `${t.medium}:${t.code}`, data: value.data, ...(next?.kind === 'scaler' ? { scaler: next } : {}) });
  }
  // Some meters end the list with their number as a bare string, without an OBIS code.
  for (let i = 1; i < list.length; i++) {
    const t = list[i]!;
    if (t.kind !== 'value' || t.data.type !== 'octets' || list[i - 1]!.kind === 'obis') continue;
    const value = text(t.data.bytes);
    if (/^[\x20-\x7e]{6,}$/.test(value) && !cosemDateTime(t.data.bytes)) {
      extra.meterNumber = value;
    }
  }
  for (const v of values) {
    if (v.code === '0:1.0.0' && v.data.type === 'octets') clock = cosemDateTime(v.data.bytes) ?? clock;
  }
  const at = clock?.utc ?? options.receivedAt;
  if (!at) throw new FrameError('format', 'the notification carries no usable time and no receive time was given');
  if (clock && !clock.utc) extra.meterLocalTime = clock.local;
  const ts = at.toISOString();

  const readings: Reading[] = [];
  for (const v of values) {
    if (v.data.type === 'octets') {
      const value = text(v.data.bytes);
      if (v.code === '0:96.1.0' || v.code === '0:42.0.0') meterId ??= value;
      if (v.data.bytes.length !== 12) extra[v.code] = value;
      continue;
    }
    if (v.data.type !== 'integer') continue;
    const mapping = OBIS[v.code];
    const number = scaled(v.data.value, v.scaler?.scaler ?? 0);
    if (!mapping) {
      extra[EXTRA_OBIS[v.code] ?? v.code] = number;
      continue;
    }
    const unit = QUANTITY_UNITS[mapping.quantity];
    if (v.scaler && DLMS_UNITS[v.scaler.unit] !== unit) {
      throw new FrameError('format', `${v.code} in DLMS unit ${v.scaler.unit}, expected ${unit}`);
    }
    readings.push({ ts, quantity: mapping.quantity, value: number, unit });
  }
  if (readings.length === 0) throw new FrameError('format', 'the notification holds no reading Gridshare knows');
  return { format, meterId: meterId ?? (typeof extra.meterNumber === 'string' ? extra.meterNumber : undefined), readings, extra };
}
