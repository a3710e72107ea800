import { FrameError } from '../decoder.js';

/** One data record of an EN 13757-3 variable data structure, with its value and meaning. */
export interface MbusRecord {
  readonly storage: number;
  readonly tariff: number;
  /** What the VIF says the value is. */
  readonly kind: 'energy-wh' | 'energy-j' | 'volume-m3' | 'power-w' | 'voltage-v' | 'current-a' | 'time-point' | 'fabrication-no' | 'dimensionless' | 'other';
  readonly value: number | string;
  /** The plain-text VIF or a description when the VIF is not one Gridshare maps. */
  readonly label?: string;
}

export interface MbusHeader {
  readonly id: string;
  readonly manufacturer: string;
  readonly version: number;
  readonly medium: number;
  readonly accessNo: number;
  readonly status: number;
}

const MAX_RECORDS = 256;

function bcd(bytes: Uint8Array): number {
  let value = 0;
  for (let i = bytes.length - 1; i >= 0; i--) {
    const hi = bytes[i]! >> 4;
    const lo = bytes[i]! & 0x0f;
    if (hi > 9 || lo > 9) throw new FrameError('format', 'invalid BCD digit');
    value = value * 100 + hi * 10 + lo;
  }
  return value;
}

function littleEndian(bytes: Uint8Array): number {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  const bits = BigInt(bytes.length * 8);
  if (bytes.length > 0 && bytes[bytes.length - 1]! & 0x80) value -= 1n << bits;
  return Number(value);
}

const DATA_SIZE: Readonly<Record<number, number>> = { 0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 4, 6: 6, 7: 8, 9: 1, 0xa: 2, 0xb: 3, 0xc: 4, 0xe: 6 };

const pow10 = (n: number, exponent: number) => (exponent >= 0 ? n * 10 ** exponent : n / 10 ** -exponent);

/** Type F date-time (4 bytes): minute, hour, day, month and year split over the bytes. */
function typeF(b: Uint8Array): string {
  const minute = b[0]! & 0x3f;
  const hour = b[1]! & 0x1f;
  const day = b[2]! & 0x1f;
  const month = b[3]! & 0x0f;
  const year = 2000 + (((b[2]! & 0xe0) >> 5) | ((b[3]! & 0xf0) >> 1));
  const two = (n: number) => String(n).padStart(2, '0');
  return `${year}-${two(month)}-${two(day)}T${two(hour)}:${two(minute)}`;
}

/** The 12-byte header after CI 0x72: identification (BCD), manufacturer, version, medium, access number, status, signature. */
export function mbusHeader(data: Uint8Array): MbusHeader {
  if (data.length < 12) throw new FrameError('truncated', 'M-Bus header of 12 bytes');
  const m = data[4]! | (data[5]! << 8);
  const manufacturer = String.fromCharCode(((m >> 10) & 0x1f) + 64, ((m >> 5) & 0x1f) + 64, (m & 0x1f) + 64);
  return { id: String(bcd(data.subarray(0, 4))).padStart(8, '0'), manufacturer, version: data[6]!, medium: data[7]!, accessNo: data[8]!, status: data[9]! };
}

/** Reads the data records (DIF, DIFEs, VIF, VIFEs, data) until the end or manufacturer-specific data. */
export function mbusRecords(data: Uint8Array): MbusRecord[] {
  const records: MbusRecord[] = [];
  let i = 0;
  const byte = () => {
    if (i >= data.length) throw new FrameError('truncated', 'M-Bus record cut short');
    return data[i++]!;
  };
  while (i < data.length && records.length < MAX_RECORDS) {
    const dif = byte();
    if (dif === 0x2f) continue; // idle filler
    if ((dif & 0x0f) === 0x0f) break; // manufacturer-specific data to the end
    let storage = (dif >> 6) & 1;
    let tariff = 0;
    let extension = dif;
    for (let n = 0; extension & 0x80; n++) {
      if (n >= 10) throw new FrameError('format', 'too many DIFEs');
      extension = byte();
      storage |= (extension & 0x0f) << (1 + 4 * n);
      tariff |= ((extension >> 4) & 0x03) << (2 * n);
    }
    let vif = byte();
    let label: string | undefined;
    let vifExtension: number | undefined;
    if (vif === 0x7c || vif === 0xfc) {
      const length = byte();
      if (i + length > data.length) throw new FrameError('truncated', 'plain-text VIF');
      label = Buffer.from(data.subarray(i, i + length)).reverse().toString('latin1');
      i += length;
    } else if (vif === 0xfd || vif === 0xfb) {
      vifExtension = byte();
    }
    let last = vifExtension ?? vif;
    for (let n = 0; last & 0x80; n++) {
      if (n >= 10) throw new FrameError('format', 'too many VIFEs');
      last = byte();
    }
    const coding = dif & 0x0f;
    let raw: Uint8Array;
    if (coding === 0x0d) {
      const length = byte();
      if (length > 0xbf) throw new FrameError('unsupported', 'variable-length data other than text');
      if (i + length > data.length) throw new FrameError('truncated', 'variable-length data');
      raw = data.subarray(i, i + length);
      i += length;
    } else {
      const size = DATA_SIZE[coding];
      if (size === undefined) throw new FrameError('format', `DIF data coding ${coding}`);
      if (i + size > data.length) throw new FrameError('truncated', 'M-Bus record data');
      raw = data.subarray(i, i + size);
      i += size;
    }
    const isBcd = coding >= 0x09 && coding <= 0x0e && coding !== 0x0d;
    const number = (): number => (coding === 5 ? Buffer.from(raw).readFloatLE(0) : isBcd ? bcd(raw) : littleEndian(raw));
    const text = () => Buffer.from(raw).reverse().toString('latin1');
    const base = { storage, tariff };
    const v = vif & 0x7f;
    if (vifExtension !== undefined && vif === 0xfd) {
      const e = vifExtension & 0x7f;
      if (e >= 0x40 && e <= 0x4f) records.push({ ...base, kind: 'voltage-v', value: pow10(number(), (e & 0x0f) - 9) });
      else if (e >= 0x50 && e <= 0x5f) records.push({ ...base, kind: 'current-a', value: pow10(number(), (e & 0x0f) - 12) });
      else if (e === 0x3a) records.push({ ...base, kind: 'dimensionless', value: number() });
      else records.push({ ...base, kind: 'other', value: coding === 0x0d ? text() : number(), label: `FD ${e.toString(16)}` });
    } else if (label !== undefined) {
      records.push({ ...base, kind: 'other', value: coding === 0x0d ? text() : number(), label });
    } else if (v <= 0x07) records.push({ ...base, kind: 'energy-wh', value: pow10(number(), v - 3) });
    else if (v <= 0x0f) records.push({ ...base, kind: 'energy-j', value: pow10(number(), v - 8) });
    else if (v <= 0x17) records.push({ ...base, kind: 'volume-m3', value: pow10(number(), v - 0x10 - 6) });
    else if (v >= 0x28 && v <= 0x2f) records.push({ ...base, kind: 'power-w', value: pow10(number(), v - 0x28 - 3) });
    else if (v === 0x6d && raw.length === 4) records.push({ ...base, kind: 'time-point', value: typeF(raw) });
    else if (v === 0x78) records.push({ ...base, kind: 'fabrication-no', value: String(number()) });
    else records.push({ ...base, kind: 'other', value: coding === 0x0d ? text() : number(), label: `VIF ${vif.toString(16)}` });
  }
  return records;
}
