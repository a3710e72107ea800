import { ByteQueue, DEFAULT_MAX_FRAME_BYTES, type Framer, type FramerKind, type FramerOptions, type FramerOutput } from './framer.js';

const SLASH = 0x2f;
const BANG = 0x21;
const LF = 0x0a;
const STX = 0x02;
const ETX = 0x03;

/**
 * Text telegrams that start with "/" and an identification line: DSMR P1 ("…!CRC\r\n", or
 * "…!\r\n" before DSMR 4), IEC 62056-21 mode D push ("…!\r\n") and mode A/B/C readouts (a data
 * block between STX and ETX, then the BCC byte). A "/" at the start of a line before the end
 * means the telegram before it was cut off (the agent started in its middle, or a byte was lost):
 * it is skipped and the new one read.
 */
class TextFramer implements Framer {
  private readonly queue = new ByteQueue();
  /** How far the current frame was searched for its end already. */
  private scanned = 0;
  /** Bytes of cut-off telegrams dropped while searching for an end. */
  private restartSkipped = 0;

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Uint8Array): FramerOutput {
    this.queue.append(chunk);
    const frames: Uint8Array[] = [];
    let skipped = 0;
    for (;;) {
      if (this.queue.length === 0) break;
      if (this.queue.at(0) !== SLASH) {
        const start = this.queue.indexOf(SLASH);
        const drop = start < 0 ? this.queue.length : start;
        this.queue.drop(drop);
        skipped += drop;
        this.scanned = 0;
        continue;
      }
      const end = this.findEnd();
      if (end === 'restart') continue;
      if (end === undefined) {
        if (this.queue.length > this.maxFrameBytes) {
          this.queue.drop(1);
          skipped += 1;
          this.scanned = 0;
          continue;
        }
        break;
      }
      frames.push(this.queue.take(end));
      this.scanned = 0;
    }
    skipped += this.restartSkipped;
    this.restartSkipped = 0;
    return { frames, skipped };
  }

  /** Length of the frame at the queue's head, undefined while incomplete, 'restart' after dropping a cut-off one. */
  private findEnd(): number | 'restart' | undefined {
    const q = this.queue;
    for (let i = Math.max(1, this.scanned); i < q.length; i++) {
      const byte = q.at(i);
      if (byte === SLASH && i + 5 > q.length) {
        this.scanned = i;
        return undefined;
      }
      if (byte === SLASH && (q.at(i - 1) === LF || looksLikeIdentification(q, i))) {
        q.drop(i);
        this.restartSkipped += i;
        this.scanned = 0;
        return 'restart';
      }
      if (byte === STX) {
        const etx = q.indexOf(ETX, i + 1);
        if (etx < 0 || etx + 1 >= q.length) {
          this.scanned = i;
          return undefined;
        }
        return etx + 2;
      }
      if (byte === BANG) {
        const lf = q.indexOf(LF, i + 1);
        if (lf < 0) {
          this.scanned = i;
          return undefined;
        }
        return lf + 1;
      }
    }
    this.scanned = q.length;
    return undefined;
  }
}

/** "/" and three letters of a manufacturer, then the baud character: a new telegram starts here. */
function looksLikeIdentification(q: ByteQueue, at: number): boolean {
  const letter = (b: number) => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
  const baud = q.at(at + 4);
  return letter(q.at(at + 1)) && letter(q.at(at + 2)) && (letter(q.at(at + 3)) || (q.at(at + 3) >= 0x30 && q.at(at + 3) <= 0x39))
    && ((baud >= 0x30 && baud <= 0x39) || (baud >= 0x41 && baud <= 0x49));
}

export const textFraming: FramerKind = {
  name: 'text',
  create: (options: FramerOptions = {}) => new TextFramer(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES),
};
