import { framing, QueueFramer, type ByteQueue, type FramingStep } from './framer.js';

const ESCAPE = 0x1b;
const BEGIN = 0x01;
const END = 0x1a;

/**
 * SML transport v1: 1B1B1B1B 01010101 … 1B1B1B1B 1A <padding> <CRC16>. The message is padded to
 * whole 4-byte blocks and an escape sequence inside it is doubled, so the end is found by
 * reading 4-byte blocks from the start: an escape followed by another is data, one followed by
 * 1A ends the frame, one followed by 01010101 starts a new frame (the one before was cut off).
 */
class SmlFramer extends QueueFramer {
  /** Offset of the next 4-byte block of the current frame still to be read. */
  private nextBlock = 8;

  protected step(): FramingStep {
    const q = this.queue;
    const start = this.findStart();
    if (start > 0) {
      this.nextBlock = 8;
      return this.skipTo(start);
    }
    if (q.length < 8) return undefined;
    const end = this.findEnd();
    if (end === undefined) {
      if (q.length <= this.maxFrameBytes) return undefined;
      this.nextBlock = 8;
      return this.skipTo(1);
    }
    this.nextBlock = 8;
    // A new start or a broken escape: what was read of this frame goes.
    return end < 0 ? this.skipTo(-end) : { frame: q.take(end), skip: 0 };
  }

  /** Bytes before the first possible start sequence (all but a possible beginning of one when there is none). */
  private findStart(): number {
    const q = this.queue;
    for (let i = 0; i + 8 <= q.length; i++) {
      if (isBlock(q, i, ESCAPE) && isBlock(q, i + 4, BEGIN)) return i;
    }
    return Math.max(0, q.length - 7);
  }

  /** Frame length; undefined while incomplete; −n: drop n bytes and look again. */
  private findEnd(): number | undefined {
    const q = this.queue;
    while (this.nextBlock + 4 <= q.length) {
      const at = this.nextBlock;
      if (!isBlock(q, at, ESCAPE)) {
        this.nextBlock += 4;
        continue;
      }
      if (at + 8 > q.length) return undefined;
      if (isBlock(q, at + 4, ESCAPE)) {
        this.nextBlock += 8;
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

export const smlFraming = framing('sml', (maxFrameBytes) => new SmlFramer(maxFrameBytes));
