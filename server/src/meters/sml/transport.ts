import { crc16Kermit, crc16X25 } from '../crc.js';
import { FrameError } from '../decoder.js';

const ESCAPE = [0x1b, 0x1b, 0x1b, 0x1b];
const isEscape = (b: Uint8Array, i: number) => i + 4 <= b.length && b[i] === 0x1b && b[i + 1] === 0x1b && b[i + 2] === 0x1b && b[i + 3] === 0x1b;

/**
 * SML transport v1: 1B1B1B1B 01010101 <messages> [00 padding] 1B1B1B1B 1A <pad count> <CRC>.
 * The CRC covers everything from the first escape through the pad count. Meters use CRC-16/X-25
 * (sent low byte first) or, some of them, CRC-16/KERMIT; both are accepted, nothing else is.
 * Inside, 1B1B1B1B 1B1B1B1B stands for the payload bytes 1B1B1B1B.
 */
export function smlPayload(frame: Uint8Array, ignoreCrc: boolean): Uint8Array {
  if (!isEscape(frame, 0) || frame[4] !== 1 || frame[5] !== 1 || frame[6] !== 1 || frame[7] !== 1) {
    throw new FrameError('format', 'no SML start sequence');
  }
  const out: number[] = [];
  let i = 8;
  for (;;) {
    if (i >= frame.length) throw new FrameError('truncated', 'no SML end sequence');
    if (isEscape(frame, i)) {
      if (isEscape(frame, i + 4)) {
        out.push(...ESCAPE);
        i += 8;
        continue;
      }
      if (frame[i + 4] !== 0x1a) throw new FrameError('format', 'unknown SML escape sequence');
      if (i + 8 > frame.length) throw new FrameError('truncated', 'SML end sequence without its checksum');
      const padding = frame[i + 5]!;
      if (padding > 3 || padding > out.length) throw new FrameError('format', `SML padding of ${padding}`);
      const low = frame[i + 6]! | (frame[i + 7]! << 8);
      const high = (frame[i + 6]! << 8) | frame[i + 7]!;
      const end = i + 6;
      const ok = crc16X25(frame, 0, end) === low || crc16Kermit(frame, 0, end) === high || crc16Kermit(frame, 0, end) === low;
      if (!ok && !ignoreCrc) throw new FrameError('crc', 'SML transport checksum (neither CRC-16/X-25 nor KERMIT)');
      return Uint8Array.from(out.slice(0, out.length - padding));
    }
    out.push(frame[i]!);
    i++;
  }
}
