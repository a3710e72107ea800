import { FrameError } from '../decoder.js';

/** DIF function field: what kind of value the record holds. */
export type MbusFunction = 'instantaneous' | 'maximum' | 'minimum' | 'error';
const FUNCTIONS: readonly MbusFunction[] = ['instantaneous', 'maximum', 'minimum', 'error'];

/** One data record of an EN 13757-3 variable data structure, with its value and meaning. */
export interface MbusRecord {
  readonly storage: number;
  readonly tariff: number;
  readonly subunit: number;
  readonly function: MbusFunction;
  /** What the VIF says the value is. */
  readonly kind: 'energy-wh' | 'energy-j' | 'volume-m3' | 'power-w' | 'voltage-v' | 'current-a' | 'time-point' | 'fabrication-no' | 'dimensionless' | 'other';
  readonly value: number | string;
  /** The plain-text VIF or a description when the VIF is not one Gridshare maps. */
  readonly label?: string;
  /**
   * The combinable VIF extensions that follow the VIF (without the extension bit), e.g. 0x3C
   * "accumulation of the absolute value of negative contributions only" (backward flow, export).
   */
  readonly vife: readonly number[];
}

/** The 12-byte header after CI 0x72, or the 4-byte one after CI 0x7A (no identification). */
export interface MbusHeader {
  readonly id?: string;
  readonly manufacturer?: string;
  readonly version?: number;
  readonly medium?: number;
  readonly accessNo: number;
  readonly status: number;
  readonly signature: number;
  /** Header size in bytes: where the data records start. */
  readonly size: number;
}

const MAX_RECORDS = 256;
const MAX_EXTENSIONS = 10;

/** Packed BCD, least significant byte first; a top nibble F marks a negative number. Undefined when not BCD. */
function bcd(bytes: Uint8Array): number | undefined {
  let value = 0;
  let sign = 1;
  for (let i = bytes.length - 1; i >= 0; i--) {
    let hi = bytes[i]! >> 4;
    const lo = bytes[i]! & 0x0f;
    if (i === bytes.length - 1 && hi === 0x0f) {
      sign = -1;
      hi = 0;
    }
    if (hi > 9 || lo > 9) return undefined;
    value = value * 100 + hi * 10 + lo;
  }
  return sign * value;
}

/** Little-endian two's-complement integer of up to 8 bytes. */
function littleEndian(bytes: Uint8Array): number {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  if (bytes.length > 0 && bytes[bytes.length - 1]! & 0x80) value -= 1n << BigInt(bytes.length * 8);
  return Number(value);
}

/** Data field (DIF bits 0–3) → bytes of data; 0x0D is variable, 0x0F special. */
const DATA_SIZE: Readonly<Record<number, number>> = { 0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 4, 6: 6, 7: 8, 8: 0, 9: 1, 0xa: 2, 0xb: 3, 0xc: 4, 0xe: 6 };
const isBcdCoding = (coding: number) => coding >= 0x09 && coding <= 0x0e && coding !== 0x0d;

/** n × 10^exponent, dividing once by a power of ten for negative exponents (exact decimals). */
export const pow10 = (n: number, exponent: number) => (exponent >= 0 ? n * 10 ** exponent : n / 10 ** -exponent);

const two = (n: number) => String(n).padStart(2, '0');

/** Type F date-time (4 bytes): minute, hour, day, month and year split over the bytes; bit 7 of the first marks it invalid. */
function typeF(b: Uint8Array): string | undefined {
  if (b[0]! & 0x80) return undefined;
  const year = 2000 + (((b[2]! & 0xe0) >> 5) | ((b[3]! & 0xf0) >> 1));
  return `${typeG(b.subarray(2), year)}T${two(b[1]! & 0x1f)}:${two(b[0]! & 0x3f)}`;
}

/** Type G date (2 bytes): day, month and year split over the bytes. */
function typeG(b: Uint8Array, year = 2000 + (((b[0]! & 0xe0) >> 5) | ((b[1]! & 0xf0) >> 1))): string {
  return `${year}-${two(b[1]! & 0x0f)}-${two(b[0]! & 0x1f)}`;
}

/** Reads the header after the CI field: 0x72 long (ID BCD, manufacturer, version, medium, access no, status, signature), 0x7A short. */
export function mbusHeader(data: Uint8Array, ci = 0x72): MbusHeader {
  if (ci === 0x7a) {
    if (data.length < 4) throw new FrameError('truncated', 'M-Bus short header of 4 bytes');
    return { accessNo: data[0]!, status: data[1]!, signature: data[2]! | (data[3]! << 8), size: 4 };
  }
  if (data.length < 12) throw new FrameError('truncated', 'M-Bus header of 12 bytes');
  const id = bcd(data.subarray(0, 4));
  if (id === undefined || id < 0) throw new FrameError('format', 'M-Bus identification number is not BCD');
  const m = data[4]! | (data[5]! << 8);
  const manufacturer = String.fromCharCode(((m >> 10) & 0x1f) + 64, ((m >> 5) & 0x1f) + 64, (m & 0x1f) + 64);
  return {
    id: String(id).padStart(8, '0'), manufacturer, version: data[6]!, medium: data[7]!,
    accessNo: data[8]!, status: data[9]!, signature: data[10]! | (data[11]! << 8), size: 12,
  };
}

type Meaning = Pick<MbusRecord, 'kind' | 'label'> & { exponent: number };

/** The primary VIF table (without the extension bit), for what Gridshare maps. */
function primary(v: number): Meaning | undefined {
  if (v <= 0x07) return { kind: 'energy-wh', exponent: v - 3 };
  if (v <= 0x0f) return { kind: 'energy-j', exponent: v - 8 };
  if (v <= 0x17) return { kind: 'volume-m3', exponent: v - 0x10 - 6 };
  if (v >= 0x28 && v <= 0x2f) return { kind: 'power-w', exponent: v - 0x28 - 3 };
  return undefined;
}

/** The FD extension table: voltage E100nnnn 10^(nnnn−9) V, current E101nnnn 10^(nnnn−12) A, dimensionless. */
function extensionFd(e: number): Meaning | undefined {
  if (e >= 0x40 && e <= 0x4f) return { kind: 'voltage-v', exponent: (e & 0x0f) - 9 };
  if (e >= 0x50 && e <= 0x5f) return { kind: 'current-a', exponent: (e & 0x0f) - 12 };
  if (e === 0x3a) return { kind: 'dimensionless', exponent: 0 };
  return undefined;
}

/** The FB extension table: energy 10^(n−1) MWh, volume 10^(n+2) m³, power 10^(n−1) MW. */
function extensionFb(e: number): Meaning | undefined {
  if (e <= 0x01) return { kind: 'energy-wh', exponent: e - 1 + 6 };
  if (e === 0x10 || e === 0x11) return { kind: 'volume-m3', exponent: (e & 1) + 2 };
  if (e === 0x28 || e === 0x29) return { kind: 'power-w', exponent: (e & 1) - 1 + 6 };
  return undefined;
}

/**
 * Reads the data records (DIF, DIFEs, VIF, VIFEs, data) until the end or manufacturer-specific
 * data (DIF 0x0F/0x1F). Every length is checked against the buffer; a value that is not what its
 * coding says (a BCD with hex digits) is kept as text of kind `other`, never as a number.
 */
export function mbusRecords(data: Uint8Array): MbusRecord[] {
  const records: MbusRecord[] = [];
  let i = 0;
  const byte = () => {
    if (i >= data.length) throw new FrameError('truncated', 'M-Bus record cut short');
    return data[i++]!;
  };
  const take = (n: number, what: string) => {
    if (i + n > data.length) throw new FrameError('truncated', `M-Bus ${what} cut short`);
    const out = data.subarray(i, i + n);
    i += n;
    return out;
  };
  while (i < data.length) {
    if (records.length >= MAX_RECORDS) throw new FrameError('format', `more than ${MAX_RECORDS} M-Bus records`);
    const dif = byte();
    if (dif === 0x2f) continue; // idle filler
    if (dif === 0x0f || dif === 0x1f) break; // manufacturer-specific data to the end
    if ((dif & 0x0f) === 0x0f) throw new FrameError('format', `special DIF 0x${dif.toString(16)}`);
    let storage = (dif >> 6) & 1;
    let tariff = 0;
    let subunit = 0;
    let extension = dif;
    for (let n = 0; extension & 0x80; n++) {
      if (n >= MAX_EXTENSIONS) throw new FrameError('format', 'too many DIFEs');
      extension = byte();
      storage += (extension & 0x0f) * 2 ** (1 + 4 * n);
      tariff += ((extension >> 4) & 0x03) * 2 ** (2 * n);
      subunit += ((extension >> 6) & 0x01) * 2 ** n;
    }
    const vif = byte();
    let label: string | undefined;
    let table: number | undefined; // 0xFD or 0xFB: the next byte is the real VIF
    let code = vif;
    if ((vif & 0x7f) === 0x7c) {
      label = Buffer.from(take(byte(), 'plain-text VIF')).reverse().toString('latin1');
    } else if (vif === 0xfd || vif === 0xfb) {
      table = vif;
      code = byte();
    }
    const vife: number[] = [];
    for (let last = code; last & 0x80;) {
      if (vife.length >= MAX_EXTENSIONS) throw new FrameError('format', 'too many VIFEs');
      last = byte();
      vife.push(last & 0x7f);
    }
    const coding = dif & 0x0f;
    let raw: Uint8Array;
    let lvar = -1; // the LVAR byte of variable-length data (coding 0x0D)
    if (coding === 0x0d) {
      lvar = byte();
      // LVAR: 00–BF text, C0–C9/D0–D9 positive/negative BCD, E0–EF binary, F0–FA float (bytes).
      const length = lvar <= 0xbf ? lvar : lvar <= 0xc9 ? lvar - 0xc0 : lvar >= 0xd0 && lvar <= 0xd9 ? lvar - 0xd0
        : lvar >= 0xe0 && lvar <= 0xef ? lvar - 0xe0 : lvar >= 0xf0 && lvar <= 0xfa ? lvar - 0xf0 : -1;
      if (length < 0) throw new FrameError('format', `reserved LVAR 0x${lvar.toString(16)}`);
      raw = take(length, 'variable-length data');
    } else {
      const size = DATA_SIZE[coding];
      if (size === undefined) throw new FrameError('format', `DIF data coding ${coding}`);
      raw = take(size, 'record data');
    }
    const base = { storage, tariff, subunit, function: FUNCTIONS[(dif >> 4) & 0x03]!, vife };
    const text = () => Buffer.from(raw).reverse().toString('latin1');
    const hex = () => Buffer.from(raw).reverse().toString('hex').toUpperCase();
    let number: number | undefined;
    if (coding === 0x0d) {
      const digits = lvar >= 0xc0 && lvar <= 0xd9 ? bcd(raw) : undefined;
      if (digits !== undefined) number = lvar >= 0xd0 ? -digits : digits;
      else if (lvar >= 0xe0 && lvar <= 0xef && raw.length <= 8) number = littleEndian(raw);
    } else if (coding === 5) number = Buffer.from(raw).readFloatLE(0);
    else if (isBcdCoding(coding)) number = bcd(raw);
    else if (coding !== 0 && coding !== 8) number = littleEndian(raw);
    if (number !== undefined && !Number.isFinite(number)) number = undefined;
    const asText = () => (number !== undefined ? number : coding === 0x0d && lvar <= 0xbf ? text() : hex());

    const meaning = label === undefined ? (table === 0xfd ? extensionFd(code & 0x7f) : table === 0xfb ? extensionFb(code & 0x7f) : primary(vif & 0x7f)) : undefined;
    if (label !== undefined) records.push({ ...base, kind: 'other', value: asText(), label });
    else if (meaning && number !== undefined && Number.isFinite(number)) records.push({ ...base, kind: meaning.kind, value: pow10(number, meaning.exponent) });
    else if (table === undefined && (vif & 0x7f) === 0x6d && raw.length === 4) records.push({ ...base, kind: 'time-point', value: typeF(raw) ?? 'invalid' });
    else if (table === undefined && (vif & 0x7f) === 0x6c && raw.length === 2) records.push({ ...base, kind: 'time-point', value: typeG(raw) });
    else if (table === undefined && (vif & 0x7f) === 0x78 && number !== undefined) records.push({ ...base, kind: 'fabrication-no', value: String(number) });
    else records.push({ ...base, kind: 'other', value: asText(), label: table === undefined ? `VIF ${vif.toString(16)}` : `${table.toString(16).toUpperCase()} ${(code & 0x7f).toString(16)}` });
  }
  return records;
}
