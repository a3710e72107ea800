import { framing, QueueFramer, type ByteQueue, type FramingStep } from './framer.js';

const SLASH = 0x2f;
const BANG = 0x21;
const LF = 0x0a;
const STX = 0x02;
const ETX = 0x03;

/**
 * Text telegrams that start with "/" and an identification line: DSMR P1 ("…!CRC\r\n", or
 * "…!\r\n" before DSMR 4), IEC 62056-21 mode D push ("…!\r\n") and mode A/B/C readouts (a data
 * block between STX and ETX, then the BCC byte). A "/" that starts a line, or an identification,
 * before the end means the telegram before it was cut off (the agent started in its middle, or a
 * byte was lost): it is skipped and the new one read.
 */
class TextFramer extends QueueFramer {
  /** How far the current frame was searched for its end already. */
  private scanned = 0;

  protected step(): FramingStep {
    const q = this.queue;
    if (q.length === 0) return undefined;
    if (q.at(0) !== SLASH) {
      this.scanned = 0;
      return this.skipTo(q.indexOf(SLASH));
    }
    const end = this.findEnd();
    if (end === undefined) {
      if (q.length <= this.maxFrameBytes) return undefined;
      this.scanned = 0;
      return this.skipTo(1);
    }
    this.scanned = 0;
    return 'restartAt' in end ? this.skipTo(end.restartAt) : { frame: q.take(end.length), skip: 0 };
  }

  /** The frame at the queue's head: its length, where a new one starts, or undefined while incomplete. */
  private findEnd(): { length: number } | { restartAt: number } | undefined {
    const q = this.queue;
    for (let i = Math.max(1, this.scanned); i < q.length; i++) {
      const byte = q.at(i);
      if (byte === SLASH && i + 5 > q.length) break;
      if (byte === SLASH && (q.at(i - 1) === LF || looksLikeIdentification(q, i))) return { restartAt: i };
      if (byte === STX) {
        const etx = q.indexOf(ETX, i + 1);
        if (etx < 0 || etx + 1 >= q.length) break;
        return { length: etx + 2 };
      }
      if (byte === BANG) {
        const lf = q.indexOf(LF, i + 1);
        if (lf < 0) break;
        return { length: lf + 1 };
      }
      this.scanned = i + 1;
    }
    return undefined;
  }
}

/** "/" and three letters of a manufacturer, then the baud character: a new telegram starts here. */
function looksLikeIdentification(q: ByteQueue, at: number): boolean {
  const letter = (b: number) => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
  const digit = (b: number) => b >= 0x30 && b <= 0x39;
  const baud = q.at(at + 4);
  return letter(q.at(at + 1)) && letter(q.at(at + 2)) && (letter(q.at(at + 3)) || digit(q.at(at + 3)))
    && (digit(baud) || (baud >= 0x41 && baud <= 0x49));
}

export const textFraming = framing('text', (maxFrameBytes) => new TextFramer(maxFrameBytes));
