import { ByteQueue, DEFAULT_MAX_FRAME_BYTES, type Framer, type FramerKind, type FramerOptions, type FramerOutput } from './framer.js';

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
class MbusFramer implements Framer {
  private readonly queue = new ByteQueue();
  private segments: Uint8Array[] = [];

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Uint8Array): FramerOutput {
    this.queue.append(chunk);
    const frames: Uint8Array[] = [];
    let skipped = 0;
    const q = this.queue;
    for (;;) {
      if (q.length === 0) break;
      if (q.at(0) !== START) {
        const start = q.indexOf(START);
        const drop = start < 0 ? q.length : start;
        q.drop(drop);
        skipped += drop;
        continue;
      }
      if (q.length < 4) break;
      const length = q.at(1);
      if (q.at(2) !== length || q.at(3) !== START || length < 3) {
        q.drop(1);
        skipped += 1;
        continue;
      }
      const total = length + 6;
      if (q.length < total) break;
      if (q.at(total - 1) !== STOP) {
        q.drop(1);
        skipped += 1;
        continue;
      }
      const frame = q.take(total);
      const ci = frame[6]!;
      if (ci > DLMS_CI_MAX) {
        skipped += this.dropSegments();
        frames.push(frame);
        continue;
      }
      const sequence = ci & 0x0f;
      if (sequence === 0 && this.segments.length > 0) skipped += this.dropSegments();
      if (sequence !== this.segments.length) {
        // A segment without the ones before it (the agent started in the middle of an APDU).
        skipped += this.dropSegments() + frame.length;
        continue;
      }
      this.segments.push(frame);
      const size = this.segments.reduce((sum, s) => sum + s.length, 0);
      if ((ci & FINAL_SEGMENT) !== 0) {
        frames.push(concat(this.segments, size));
        this.segments = [];
      } else if (this.segments.length >= MAX_SEGMENTS || size > this.maxFrameBytes) {
        skipped += this.dropSegments();
      }
    }
    return { frames, skipped };
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

export const mbusFraming: FramerKind = {
  name: 'mbus',
  create: (options: FramerOptions = {}) => new MbusFramer(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES),
};
