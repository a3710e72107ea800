import { FrameError } from '../decoder.js';

/**
 * One SML value as the type-length encoding of SML 1.04 (§6.3) carries it. The one-byte
 * octet string `01` is how SML writes an optional field that is not set: it reads as `absent`.
 */
export type SmlNode =
  | { readonly type: 'absent' }
  | { readonly type: 'octets'; readonly bytes: Uint8Array }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'integer'; readonly signed: boolean; readonly value: bigint }
  | { readonly type: 'list'; readonly items: readonly SmlNode[] }
  /** The `00` byte that closes every SML message (endOfSmlMsg). */
  | { readonly type: 'end' };

/** Lists deeper than this are refused: SML messages nest five or six levels at most. */
export const MAX_DEPTH = 16;
/** A type-length field has at most four bytes (a 16-bit length). */
const MAX_TL_BYTES = 4;
const TYPE_OCTETS = 0;
const TYPE_BOOLEAN = 4;
const TYPE_INTEGER = 5;
const TYPE_UNSIGNED = 6;
const TYPE_LIST = 7;

/**
 * Reads SML values one after the other from the transport payload. Every length is checked
 * against the bytes left before anything is read, and lists may nest only MAX_DEPTH deep, so
 * hostile input ends in a FrameError, never in a long loop or a stack overflow.
 */
export class SmlReader {
  private offset = 0;

  constructor(private readonly bytes: Uint8Array) {}

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  read(depth = 0): SmlNode {
    if (depth > MAX_DEPTH) throw new FrameError('format', `SML lists nested deeper than ${MAX_DEPTH}`);
    const start = this.offset;
    const first = this.byte();
    if (first === 0x00) return { type: 'end' };
    const type = (first >> 4) & 0x07;
    let length = first & 0x0f;
    let tlBytes = 1;
    let more = (first & 0x80) !== 0;
    while (more) {
      if (tlBytes >= MAX_TL_BYTES) throw new FrameError('format', `SML type-length field at byte ${start} is longer than ${MAX_TL_BYTES} bytes`);
      const next = this.byte();
      // Continuation bytes carry only length bits; their type bits are 000.
      if ((next & 0x70) !== 0) throw new FrameError('format', `SML type-length continuation byte 0x${hex(next)} at byte ${this.offset - 1}`);
      length = (length << 4) | (next & 0x0f);
      more = (next & 0x80) !== 0;
      tlBytes++;
    }
    if (type === TYPE_LIST) {
      // A list's length counts its elements; each needs at least one byte.
      if (length > this.remaining) throw new FrameError('truncated', `SML list of ${length} elements, ${this.remaining} bytes left`);
      const items: SmlNode[] = [];
      for (let i = 0; i < length; i++) items.push(this.read(depth + 1));
      return { type: 'list', items };
    }
    // Any other length counts the type-length bytes too.
    const size = length - tlBytes;
    if (size < 0) throw new FrameError('format', `SML length ${length} at byte ${start} is shorter than its type-length field`);
    if (size > this.remaining) throw new FrameError('truncated', `SML value of ${size} bytes at byte ${start}, ${this.remaining} left`);
    const data = this.bytes.subarray(this.offset, this.offset + size);
    this.offset += size;
    switch (type) {
      case TYPE_OCTETS:
        return size === 0 ? { type: 'absent' } : { type: 'octets', bytes: data };
      case TYPE_BOOLEAN:
        if (size !== 1) throw new FrameError('format', `SML boolean of ${size} bytes at byte ${start}`);
        return { type: 'boolean', value: data[0] !== 0 };
      case TYPE_INTEGER:
      case TYPE_UNSIGNED: {
        if (size < 1 || size > 8) throw new FrameError('format', `SML integer of ${size} bytes at byte ${start}`);
        let value = 0n;
        for (const b of data) value = (value << 8n) | BigInt(b);
        const signed = type === TYPE_INTEGER;
        if (signed && (data[0]! & 0x80) !== 0) value -= 1n << BigInt(size * 8);
        return { type: 'integer', signed, value };
      }
      default:
        throw new FrameError('format', `unknown SML type ${type} (type-length byte 0x${hex(first)}) at byte ${start}`);
    }
  }

  private byte(): number {
    if (this.offset >= this.bytes.length) throw new FrameError('truncated', 'the SML data ends inside a value');
    return this.bytes[this.offset++]!;
  }
}

const hex = (b: number) => b.toString(16).padStart(2, '0');
