import { FrameError } from '../decoder.js';

/** One SML value (type-length encoded, SML 1.04 §6). */
export type SmlValue =
  | { readonly type: 'octets'; readonly bytes: Uint8Array }
  | { readonly type: 'integer'; readonly value: bigint }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'list'; readonly items: readonly SmlValue[] }
  | { readonly type: 'end' };

const MAX_DEPTH = 12;

export class SmlReader {
  private count = 0;
  constructor(private readonly bytes: Uint8Array, public offset = 0) {}

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  value(depth = 0): SmlValue {
    if (depth > MAX_DEPTH) throw new FrameError('format', 'SML lists nested too deep');
    if (++this.count > 10_000) throw new FrameError('format', 'too many SML values');
    const start = this.offset;
    let tl = this.byte();
    if (tl === 0x00) return { type: 'end' };
    const type = (tl >> 4) & 0x07;
    let length = tl & 0x0f;
    let tlBytes = 1;
    while (tl & 0x80) {
      if (tlBytes >= 4) throw new FrameError('format', 'SML type-length field too long');
      tl = this.byte();
      length = (length << 4) | (tl & 0x0f);
      tlBytes++;
    }
    if (type === 7) {
      const items: SmlValue[] = [];
      for (let i = 0; i < length; i++) items.push(this.value(depth + 1));
      return { type: 'list', items };
    }
    const size = length - tlBytes;
    if (size < 0) throw new FrameError('format', 'SML length shorter than its type-length field');
    if (this.offset + size > this.bytes.length) throw new FrameError('truncated', `SML value of ${size} bytes, ${this.bytes.length - this.offset} left`);
    const data = this.bytes.subarray(this.offset, this.offset + size);
    this.offset += size;
    switch (type) {
      case 0: return { type: 'octets', bytes: data };
      case 4: return { type: 'boolean', value: data[0] !== 0 };
      case 5:
      case 6: {
        if (size > 8) throw new FrameError('format', `SML integer of ${size} bytes`);
        let value = 0n;
        for (const b of data) value = (value << 8n) | BigInt(b);
        if (type === 5 && size > 0 && data[0]! & 0x80) value -= 1n << BigInt(size * 8);
        return { type: 'integer', value };
      }
      default: throw new FrameError('format', `unknown SML type ${type} at byte ${start}`);
    }
  }

  private byte(): number {
    if (this.offset >= this.bytes.length) throw new FrameError('truncated', 'the SML message ends early');
    return this.bytes[this.offset++]!;
  }
}
