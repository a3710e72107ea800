import { QUANTITY_UNITS, SIGNED_QUANTITIES, type Reading } from '../../../kernel/quantities.js';
import { FrameError, type DecodedFrame, type DecodeOptions } from '../decoder.js';
import { exactValue } from '../exact.js';
import { OBIS } from '../obis.js';
import { AxdrReader, cosemDateTime, type DlmsData } from './axdr.js';

export const DATA_NOTIFICATION = 0x0f;

/** DLMS unit enumeration (IEC 62056-6-2) for the units of the vocabulary; 255 is "count", no unit. */
const DLMS_UNITS: Readonly<Record<number, string>> = { 27: 'W', 28: 'VA', 29: 'var', 30: 'Wh', 31: 'VAh', 32: 'varh', 33: 'A', 35: 'V', 44: 'Hz', 255: '1' };
/** Values with no quantity in the vocabulary, kept in `extra` under a readable name. */
const EXTRA_OBIS: Readonly<Record<string, string>> = { '3.7.0': 'reactivePower.import', '4.7.0': 'reactivePower.export', '0.2.0': 'firmware' };
const METER_ID_OBIS: ReadonlySet<string> = new Set(['0:96.1.0', '0:42.0.0']);
const CLOCK_OBIS = '0:1.0.0';
const CURRENT_VALUE = 255;

type Token =
  | { kind: 'obis'; code: string }
  | { kind: 'value'; data: DlmsData }
  | { kind: 'scaler'; scaler: number; unit: number };

const isObis = (d: DlmsData): d is Extract<DlmsData, { type: 'octets' }> => d.type === 'octets' && d.tag === 0x09 && d.bytes.length === 6;

/**
 * "C.D.E" for electricity (A = 1) current values (F = 255), the key of the OBIS table; otherwise
 * "A:C.D.E" and "*F" for other media and for billing periods, which never map to a quantity.
 */
function obisCode(bytes: Uint8Array): string {
  const [a, , c, d, e, f] = bytes;
  return `${a === 1 ? '' : `${a}:`}${c}.${d}.${e}${f === CURRENT_VALUE ? '' : `*${f}`}`;
}

/**
 * Meters lay the pushed list out in several ways: structures of (obis, value, scaler-unit) as
 * Salzburg's and Iskra's meters do, one flat structure of datetime and obis/value/scaler-unit
 * triplets (Netz NÖ's Kaifa), or of obis/value pairs without any scaler (the Landis+Gyr E450).
 * Flattened depth-first, all of them read as: OBIS code, value, and optionally a scaler-unit pair
 * (a structure of an int8 and an enum).
 */
function tokens(data: DlmsData, out: Token[]): Token[] {
  if (data.type === 'structure' || data.type === 'array') {
    const [a, b] = data.items;
    if (data.items.length === 2 && a?.type === 'integer' && a.tag === 0x0f && b?.type === 'enum') {
      out.push({ kind: 'scaler', scaler: Number(a.value), unit: b.value });
      return out;
    }
    for (const item of data.items) tokens(item, out);
    return out;
  }
  // What follows an OBIS code is its value, even a 6-byte string that looks like a code itself.
  const afterObis = out[out.length - 1]?.kind === 'obis';
  out.push(isObis(data) && !afterObis ? { kind: 'obis', code: obisCode(data.bytes) } : { kind: 'value', data });
  return out;
}

function text(bytes: Uint8Array): string {
  const ascii = Buffer.from(bytes).toString('latin1');
  return /^[\x20-\x7e]*$/.test(ascii) ? ascii : Buffer.from(bytes).toString('hex').toUpperCase();
}

/** value × 10^scaler, exact for negative scalers: the integer is divided once by a power of ten. */
function scaled(value: bigint | number, scaler: number): number {
  if (scaler < -9 || scaler > 9) throw new FrameError('format', `scaler ${scaler}`);
  if (typeof value === 'number') return scaler >= 0 ? value * 10 ** scaler : value / 10 ** -scaler;
  return exactValue(value, scaler);
}

interface Entry {
  readonly code: string;
  readonly data: DlmsData;
  readonly scaler?: { readonly scaler: number; readonly unit: number };
}

/**
 * Reads a DataNotification APDU (0x0F: long-invoke-id-and-priority, date-time as an octet string
 * of 0 or 12 bytes, notification body) into readings. Registers and instantaneous values map
 * through the OBIS table; the meter's scaler is applied exactly and its unit must be the
 * quantity's (a value in another unit is kept in `extra`, never mis-read). Without a scaler the
 * unit is the one the OBIS code implies (Wh, W, varh, var, as the E450 sends them).
 *
 * The readings' time is the notification's date-time, else a clock value in the body, else
 * `options.receivedAt`; a date-time whose deviation is "not specified" is a local time of unknown
 * zone and only kept in `extra.meterLocalTime`.
 */
export function decodeDataNotification(apdu: Uint8Array, options: DecodeOptions, format: string): DecodedFrame {
  const reader = new AxdrReader(apdu);
  if (reader.byte() !== DATA_NOTIFICATION) throw new FrameError('format', 'not a DataNotification APDU');
  reader.take(4);
  const stampLength = reader.byte();
  if (stampLength !== 0 && stampLength !== 12) throw new FrameError('format', `date-time of ${stampLength} bytes`);
  let clock = stampLength === 12 ? cosemDateTime(reader.take(12)) : undefined;
  const body = reader.data();
  if (reader.remaining !== 0) throw new FrameError('format', `${reader.remaining} bytes after the notification body`);

  const list = tokens(body, []);
  const extra: Record<string, string | number> = {};
  const entries: Entry[] = [];
  for (let i = 0; i < list.length; i++) {
    const t = list[i]!;
    if (t.kind !== 'obis') continue;
    const value = list[i + 1];
    if (value?.kind !== 'value') continue;
    const next = list[i + 2];
    entries.push({ code: t.code, data: value.data, ...(next?.kind === 'scaler' ? { scaler: next } : {}) });
  }
  // A leading date-time in the body is the notification's time when the header has none.
  const head = list[0];
  if (!clock && head?.kind === 'value' && head.data.type === 'octets' && head.data.bytes.length === 12) clock = cosemDateTime(head.data.bytes);
  for (const e of entries) {
    if (e.code === CLOCK_OBIS && e.data.type === 'octets') clock = clock?.utc ? clock : (cosemDateTime(e.data.bytes) ?? clock);
  }
  // Some meters end the list with their number as a bare string, without an OBIS code.
  for (let i = 1; i < list.length; i++) {
    const t = list[i]!;
    if (t.kind !== 'value' || t.data.type !== 'octets' || list[i - 1]!.kind === 'obis' || cosemDateTime(t.data.bytes)) continue;
    const value = text(t.data.bytes);
    if (/^[\x20-\x7e]{6,}$/.test(value)) extra.meterNumber = value;
  }
  const at = clock?.utc ?? options.receivedAt;
  if (!at) throw new FrameError('format', 'the notification carries no usable time and no receive time was given');
  if (clock && !clock.utc) extra.meterLocalTime = clock.local;
  const ts = at.toISOString();

  let meterId: string | undefined;
  const readings: Reading[] = [];
  for (const e of entries) {
    if (e.data.type === 'octets') {
      const value = text(e.data.bytes);
      if (METER_ID_OBIS.has(e.code)) meterId ??= value;
      if (!cosemDateTime(e.data.bytes)) extra[e.code] = value;
      continue;
    }
    if (e.data.type !== 'integer' && e.data.type !== 'float') continue;
    const number = scaled(e.data.value, e.scaler?.scaler ?? 0);
    if (!Number.isFinite(number)) throw new FrameError('format', `${e.code} is not a finite number`);
    const mapping = OBIS[e.code];
    const unit = mapping ? QUANTITY_UNITS[mapping.quantity] : undefined;
    const meterUnit = e.scaler ? (DLMS_UNITS[e.scaler.unit] ?? `unit ${e.scaler.unit}`) : unit;
    if (!mapping || meterUnit !== unit || (number < 0 && !SIGNED_QUANTITIES.has(mapping.quantity))) {
      extra[EXTRA_OBIS[e.code] ?? e.code] = number;
      if (mapping && meterUnit !== unit) extra[`${e.code}.unit`] = meterUnit ?? '';
      continue;
    }
    readings.push({ ts, quantity: mapping.quantity, value: number, unit: QUANTITY_UNITS[mapping.quantity] });
  }
  if (readings.length === 0) throw new FrameError('format', 'the notification holds no reading Gridshare knows');
  meterId ??= typeof extra.meterNumber === 'string' ? extra.meterNumber : undefined;
  return { format, meterId, readings, extra };
}
