import { FrameError } from '../decoder.js';

/** One A-XDR encoded COSEM data item (IEC 62056-6-2), the subset meters push. */
export type DlmsData =
  | { readonly type: 'null' }
  | { readonly type: 'structure' | 'array'; readonly items: readonly DlmsData[] }
  | { readonly type: 'integer'; readonly tag: number; readonly value: bigint }
  | { readonly type: 'enum'; readonly value: number }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'octets'; readonly tag: number; readonly bytes: Uint8Array }
  | { readonly type: 'float'; readonly value: number };

const MAX_DEPTH = 16;
const MAX_ITEMS = 4_096;

/** Reads A-XDR data from a byte buffer, every length checked against what is left. */
export class AxdrReader {
  private items = 0;
  constructor(private readonly bytes: Uint8Array, public offset = 0) {}

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  byte(): number {
    if (this.offset >= this.bytes.length) throw new FrameError('truncated', 'the APDU ends early');
    return this.bytes[this.offset++]!;
  }

  take(n: number): Uint8Array {
    if (n < 0 || this.offset + n > this.bytes.length) throw new FrameError('truncated', `${n} bytes announced, ${this.remaining} left`);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** A-XDR length: one byte below 0x80, else 0x8n followed by n bytes. */
  length(): number {
    const first = this.byte();
    if (first < 0x80) return first;
    const n = first & 0x7f;
    if (n === 0 || n > 3) throw new FrameError('format', `length of ${n} bytes`);
    let value = 0;
    for (let i = 0; i < n; i++) value = value * 256 + this.byte();
    return value;
  }

  data(depth = 0): DlmsData {
    if (depth > MAX_DEPTH) throw new FrameError('format', 'data nested too deep');
    if (++this.items > MAX_ITEMS) throw new FrameError('format', 'too many data items');
    const tag = this.byte();
    switch (tag) {
      case 0x00: return { type: 'null' };
      case 0x01:
      case 0x02: {
        const count = this.length();
        if (count > this.remaining) throw new FrameError('truncated', `${count} elements announced, ${this.remaining} bytes left`);
        const items: DlmsData[] = [];
        for (let i = 0; i < count; i++) items.push(this.data(depth + 1));
        return { type: tag === 0x01 ? 'array' : 'structure', items };
      }
      case 0x03: return { type: 'boolean', value: this.byte() !== 0 };
      case 0x09: case 0x0a: case 0x0c: return { type: 'octets', tag, bytes: this.take(this.length()) };
      case 0x04: return { type: 'octets', tag, bytes: this.take(Math.ceil(this.length() / 8)) };
      case 0x0d: // bcd: an Integer8 in the ASN.1, read like one
      case 0x0f: return this.integer(tag, 1, true);
      case 0x10: return this.integer(tag, 2, true);
      case 0x05: return this.integer(tag, 4, true);
      case 0x14: return this.integer(tag, 8, true);
      case 0x11: return this.integer(tag, 1, false);
      case 0x12: return this.integer(tag, 2, false);
      case 0x06: return this.integer(tag, 4, false);
      case 0x15: return this.integer(tag, 8, false);
      case 0x16: return { type: 'enum', value: this.byte() };
      case 0x17: return { type: 'float', value: Buffer.from(this.take(4)).readFloatBE(0) };
      case 0x18: return { type: 'float', value: Buffer.from(this.take(8)).readDoubleBE(0) };
      case 0x19: return { type: 'octets', tag, bytes: this.take(12) };
      case 0x1a: return { type: 'octets', tag, bytes: this.take(5) };
      case 0x1b: return { type: 'octets', tag, bytes: this.take(4) };
      default: throw new FrameError('format', `unknown A-XDR tag 0x${tag.toString(16).padStart(2, '0')}`);
    }
  }

  private integer(tag: number, size: number, signed: boolean): DlmsData {
    const raw = this.take(size);
    let value = 0n;
    for (const b of raw) value = (value << 8n) | BigInt(b);
    if (signed && raw[0]! & 0x80) value -= 1n << BigInt(size * 8);
    return { type: 'integer', tag, value };
  }
}

/**
 * COSEM date-time (12 bytes: year(2) month day weekday hour minute second hundredths
 * deviation(int16) clock-status) → UTC. The deviation is the minutes to add to the local time to
 * get UTC (−60 in CET, −120 in CEST, as the meters in the vectors send it); 0x8000 means the meter
 * does not say, and the instant is then unknown. Wildcards (0xFF…) and impossible dates give
 * `undefined`.
 */
export function cosemDateTime(bytes: Uint8Array): { utc: Date | undefined; local: string } | undefined {
  if (bytes.length !== 12) return undefined;
  const year = (bytes[0]! << 8) | bytes[1]!;
  const [month, day, , hour, minute, second, hundredths] = [bytes[2]!, bytes[3]!, bytes[4]!, bytes[5]!, bytes[6]!, bytes[7]!, bytes[8]!];
  if (year === 0xffff || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  if (day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined;
  const two = (n: number) => String(n).padStart(2, '0');
  const local = `${year}-${two(month)}-${two(day)}T${two(hour)}:${two(minute)}:${two(second)}`;
  const deviation = ((bytes[9]! << 8) | bytes[10]!) << 16 >> 16;
  if (deviation === -0x8000 || Math.abs(deviation) > 840) return { utc: undefined, local };
  const ms = hundredths < 100 ? hundredths * 10 : 0;
  const utc = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms) + deviation * 60_000);
  // Only years an ISO timestamp writes in four digits (and Date.UTC does not shift below 100).
  return year < 1970 || year > 9999 ? undefined : { utc, local };
}
