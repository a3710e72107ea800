/**
 * Frame delimiting on a serial byte stream. A framer is pure and stateful: bytes go in as they
 * arrive, whole frames come out; bytes that belong to no frame (line noise, a frame cut off when
 * the agent started, a gateway's trailer) are counted as skipped and never block the next frame.
 */
export interface FramerOutput {
  readonly frames: Uint8Array[];
  /** Bytes dropped since the last push (noise, partial frames). */
  readonly skipped: number;
}

export interface Framer {
  push(chunk: Uint8Array): FramerOutput;
}

export interface FramerKind {
  readonly name: string;
  create(options?: FramerOptions): Framer;
}

export interface FramerOptions {
  /** A frame longer than this is noise (default 64 KiB); its bytes are skipped. */
  readonly maxFrameBytes?: number;
}

export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;

/** One step over the queued bytes: a whole frame and/or bytes skipped; undefined: more bytes are needed. */
export type FramingStep = { readonly frame?: Uint8Array; readonly skip: number } | undefined;

/** A framer over a byte queue: each step consumes bytes from its head until it needs more. */
export abstract class QueueFramer implements Framer {
  protected readonly queue = new ByteQueue();

  constructor(protected readonly maxFrameBytes: number) {}

  push(chunk: Uint8Array): FramerOutput {
    this.queue.append(chunk);
    const frames: Uint8Array[] = [];
    let skipped = 0;
    for (let step = this.step(); step; step = this.step()) {
      if (step.frame) frames.push(step.frame);
      skipped += step.skip;
    }
    return { frames, skipped };
  }

  /** Drops the queue's head up to `index` (or all of it when there is no such byte). */
  protected skipTo(index: number): FramingStep {
    const skip = index < 0 ? this.queue.length : index;
    this.queue.drop(skip);
    return { skip };
  }

  protected abstract step(): FramingStep;
}

export function framing(name: string, create: (maxFrameBytes: number) => Framer): FramerKind {
  return { name, create: (options: FramerOptions = {}) => create(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES) };
}

/** A growable byte buffer with a read position; framers keep what they have not consumed. */
export class ByteQueue {
  private bytes = new Uint8Array(1024);
  private start = 0;
  private end = 0;

  get length(): number {
    return this.end - this.start;
  }

  append(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.bytes.length) {
      const live = this.end - this.start;
      if (live + chunk.length <= this.bytes.length / 2) {
        this.bytes.copyWithin(0, this.start, this.end);
      } else {
        const next = new Uint8Array(Math.max(this.bytes.length * 2, (live + chunk.length) * 2));
        next.set(this.bytes.subarray(this.start, this.end), 0);
        this.bytes = next;
      }
      this.start = 0;
      this.end = live;
    }
    this.bytes.set(chunk, this.end);
    this.end += chunk.length;
  }

  at(index: number): number {
    return this.bytes[this.start + index]!;
  }

  indexOf(byte: number, from = 0): number {
    const found = this.bytes.subarray(this.start + from, this.end).indexOf(byte);
    return found < 0 ? -1 : found + from;
  }

  /** A copy of [0, count) which is then consumed. */
  take(count: number): Uint8Array {
    const out = this.bytes.slice(this.start, this.start + count);
    this.drop(count);
    return out;
  }

  drop(count: number): void {
    this.start += Math.min(count, this.length);
    if (this.start === this.end) this.start = this.end = 0;
  }
}
