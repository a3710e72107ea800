import { ByteQueue, DEFAULT_MAX_FRAME_BYTES, type Framer, type FramerKind, type FramerOptions, type FramerOutput } from './framer.js';

const ESCAPE = 0x1b;
const BEGIN = 0x01;
const END = 0x1a;

/**
 * SML transport v1: 1B1B1B1B 01010101 … 1B1B1B1B 1A <padding> <CRC16>. The message is padded to
 * whole 4-byte blocks and an escape sequence inside it is doubled, so the end is found by
 * reading 4-byte blocks from the start: an escape followed by another is data, one followed by
 * 1A ends the frame, one followed by 01010101 starts a new frame (the one before was cut off).
 */
class SmlFramer implements Framer {
  private readonly queue = new ByteQueue();
  /** Offset of the next 4-byte block of the current frame still to be read. */
  private next = 8;

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Uint8Array): FramerOutput {
    this.queue.append(chunk);
    const frames: Uint8Array[] = [];
    let skipped = 0;
    const q = this.queue;
    for (;;) {
      const start = this.findStart();
      skipped += start;
      q.drop(start);
      this.next = start > 0 ? 8 : this.next;
      if (q.length < 8) break;
      const end = this.findEnd();
      if (end === undefined) {
        if (q.length > this.maxFrameBytes) {
          q.drop(1);
          skipped += 1;
          this.next = 8;
          continue;
        }
        break;
      }
      if (end < 0) {
        // A new start or a broken escape: drop what was read of this frame.
        const drop = -end;
        q.drop(drop);
        skipped += drop;
        this.next = 8;
        continue;
      }
      frames.push(q.take(end));
      this.next = 8;
    }
    return { frames, skipped };
  }

  /** Bytes before the first possible start sequence (all of them when there is none). */
  private findStart(): number {
    const q = this.queue;
    for (let i = 0; i + 8 <= q.length; i++) {
      if (isBlock(q, i, ESCAPE) && isBlock(q, i + 4, BEGIN)) return i;
    }
    // Keep a tail that may be the beginning of a start sequence.
    return Math.max(0, q.length - 7);
  }

  /** Frame length; undefined while incomplete; −n: drop n bytes and look again. */
  private findEnd(): number | undefined {
    const q = this.queue;
    while (this.next + 4 <= q.length) {
      const at = this.next;
      if (!isBlock(q, at, ESCAPE)) {
        this.next += 4;
        continue;
      }
      if (at + 8 > q.length) return undefined;
      if (isBlock(q, at + 4, ESCAPE)) {
        this.next += 8;
        continue;
      }
      if (q.at(at + 4) === END) return at + 8;
      return isBlock(q, at + 4, BEGIN) ? -at : -(at + 4);
    }
    return undefined;
  }
}

function isBlock(q: ByteQueue, at: number, byte: number): boolean {
  return q.at(at) === byte && q.at(at + 1) === byte && q.at(at + 2) === byte && q.at(at + 3) === byte;
}

export const smlFraming: FramerKind = {
  name: 'sml',
  create: (options: FramerOptions = {}) => new SmlFramer(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES),
};
