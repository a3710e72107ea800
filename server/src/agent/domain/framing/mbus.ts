import { framing, QueueFramer, type FramingStep } from './framer.js';

const START = 0x68;
const STOP = 0x16;
/** CI fields up to 0x1F carry DLMS segments: bit 4 marks the last one, bits 0–3 count them. */
const DLMS_CI_MAX = 0x1f;
const FINAL_SEGMENT = 0x10;
const MAX_SEGMENTS = 16;

/**
 * EN 13757-2 long frames (68 L L 68 C A CI … CS 16). A DLMS APDU too long for one frame comes
 * in segments (the Austrian customer interfaces send two or three every few seconds): they
 * are handed on together, as one frame, when the final segment arrives. Anything else (single
 * characters, short frames, a frame whose length bytes disagree or whose stop byte is missing)
 * is skipped a byte at a time until a frame start lines up again. The checksum is left to the
 * decoder, which refuses a corrupted frame with `crc`.
 */
class MbusFramer extends QueueFramer {
  private segments: Uint8Array[] = [];

  protected step(): FramingStep {
    const q = this.queue;
    if (q.length === 0) return undefined;
    if (q.at(0) !== START) return this.skipTo(q.indexOf(START));
    if (q.length < 4) return undefined;
    const length = q.at(1);
    if (q.at(2) !== length || q.at(3) !== START || length < 3) return this.skipTo(1);
    const total = length + 6;
    if (q.length < total) return undefined;
    if (q.at(total - 1) !== STOP) return this.skipTo(1);
    const frame = q.take(total);
    const ci = frame[6]!;
    if (ci > DLMS_CI_MAX) return { frame, skip: this.dropSegments() };
    const sequence = ci & 0x0f;
    let skip = sequence === 0 ? this.dropSegments() : 0;
    if (sequence !== this.segments.length) {
      // A segment without the ones before it (the agent started in the middle of an APDU).
      return { skip: skip + this.dropSegments() + frame.length };
    }
    this.segments.push(frame);
    const size = this.segments.reduce((sum, s) => sum + s.length, 0);
    if ((ci & FINAL_SEGMENT) !== 0) {
      const whole = concat(this.segments, size);
      this.segments = [];
      return { frame: whole, skip };
    }
    if (this.segments.length >= MAX_SEGMENTS || size > this.maxFrameBytes) skip += this.dropSegments();
    return { skip };
  }

  private dropSegments(): number {
    const count = this.segments.reduce((sum, s) => sum + s.length, 0);
    this.segments = [];
    return count;
  }
}

function concat(parts: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export const mbusFraming = framing('mbus', (maxFrameBytes) => new MbusFramer(maxFrameBytes));
