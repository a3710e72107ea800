import { crc16X25 } from '../crc.js';
import { FrameError } from '../decoder.js';

const FLAG = 0x7e;
const MAX_FRAMES = 64;
const MAX_ADDRESS_BYTES = 4;
const SEGMENTED = 0x0800;
const LLC_RESPONSE = [0xe6, 0xe7, 0x00] as const;
export const GENERAL_BLOCK_TRANSFER = 0xe0;

/** One HDLC frame (IEC 62056-46, frame format type 3), its checks passed. */
export interface HdlcFrame {
  /** More frames of the same message follow (segmentation bit of the format field). */
  readonly segmented: boolean;
  readonly destination: Uint8Array;
  readonly source: Uint8Array;
  readonly control: number;
  readonly information: Uint8Array;
  /** Bytes from the opening flag to just after the closing flag. */
  readonly size: number;
}

/** An HDLC address: 1, 2 or 4 bytes, the last one marked by its low bit. */
function address(body: Uint8Array, at: number): Uint8Array {
  for (let n = 0; n < MAX_ADDRESS_BYTES; n++) {
    if (at + n >= body.length) throw new FrameError('truncated', 'HDLC address cut short');
    if (body[at + n]! & 1) return body.subarray(at, at + n + 1);
  }
  throw new FrameError('format', 'HDLC address longer than 4 bytes');
}

/**
 * Reads the frame starting at `at` (at its opening 7E, or at the format field when two frames
 * share a flag): 7E | A0/A8 length | destination | source | control | HCS | information | FCS | 7E.
 * The length counts the bytes between the flags; HCS and FCS are CRC-16/X-25, low byte first.
 */
export function hdlcFrame(bytes: Uint8Array, at: number, ignoreCrc: boolean): HdlcFrame {
  let i = at;
  if (bytes[i] === FLAG) i++;
  if (bytes.length - i < 2) throw new FrameError('truncated', 'HDLC frame without its format field');
  const format = (bytes[i]! << 8) | bytes[i + 1]!;
  if (format >> 12 !== 0xa) throw new FrameError('format', 'not an HDLC frame of format type 3');
  const length = format & 0x7ff;
  if (i + length > bytes.length) throw new FrameError('truncated', `HDLC frame of ${length} bytes, ${bytes.length - i} left`);
  const body = bytes.subarray(i, i + length);
  const destination = address(body, 2);
  const source = address(body, 2 + destination.length);
  const controlAt = 2 + destination.length + source.length;
  if (controlAt + 3 > body.length) throw new FrameError('format', `HDLC frame of ${length} bytes is shorter than its header`);
  const fcsAt = length - 2;
  const checkOk = (end: number) => ignoreCrc || crc16X25(body, 0, end) === (body[end]! | (body[end + 1]! << 8));
  let information: Uint8Array = body.subarray(0, 0);
  if (controlAt + 1 < fcsAt) {
    // A header check sequence precedes the information field.
    const hcsAt = controlAt + 1;
    if (hcsAt + 2 > fcsAt) throw new FrameError('format', 'HDLC header check sequence overlaps the frame check sequence');
    if (!checkOk(hcsAt)) throw new FrameError('crc', 'HDLC header check sequence');
    information = body.subarray(hcsAt + 2, fcsAt);
  }
  if (!checkOk(fcsAt)) throw new FrameError('crc', 'HDLC frame check sequence');
  if (bytes[i + length] !== FLAG) throw new FrameError(i + length >= bytes.length ? 'truncated' : 'format', 'HDLC frame not closed by 7E');
  return { segmented: (format & SEGMENTED) !== 0, destination, source, control: body[controlAt]!, information, size: i + length + 1 - at };
}

/** Every frame in the buffer (flags may be shared or repeated between frames). */
export function hdlcFrames(bytes: Uint8Array, ignoreCrc: boolean): HdlcFrame[] {
  const frames: HdlcFrame[] = [];
  let i = 0;
  while (i < bytes.length) {
    while (bytes[i] === FLAG && bytes[i + 1] === FLAG) i++;
    if (i >= bytes.length - 1 && bytes[i] === FLAG) break;
    if (frames.length >= MAX_FRAMES) throw new FrameError('format', `more than ${MAX_FRAMES} HDLC frames`);
    const frame = hdlcFrame(bytes, i, ignoreCrc);
    frames.push(frame);
    // The closing flag may open the next frame.
    i += frame.size - 1;
    if (i >= bytes.length - 1) break;
  }
  if (frames.length === 0) throw new FrameError('truncated', 'no HDLC frame');
  return frames;
}

function stripLlc(message: Uint8Array): Uint8Array {
  return message[0] === LLC_RESPONSE[0] && message[1] === LLC_RESPONSE[1] && message[2] === LLC_RESPONSE[2] ? message.subarray(3) : message;
}

/**
 * The APDU carried by a buffer of HDLC frames. Frames with the segmentation bit are joined with
 * the next into one message; each message may start with the LLC header E6 E7 00. A message that
 * is a General Block Transfer block (E0) is joined with the following ones until the last block.
 */
export function hdlcApdu(bytes: Uint8Array, ignoreCrc: boolean): Uint8Array {
  const messages: Uint8Array[] = [];
  let pending: Uint8Array[] = [];
  const frames = hdlcFrames(bytes, ignoreCrc);
  for (const frame of frames) {
    pending.push(frame.information);
    if (frame.segmented) continue;
    messages.push(stripLlc(Buffer.concat(pending)));
    pending = [];
  }
  if (pending.length > 0) throw new FrameError('truncated', 'the last HDLC frame announces a further segment');
  if (messages[0]?.[0] === GENERAL_BLOCK_TRANSFER) return generalBlockTransfer(Buffer.concat(messages));
  if (messages.length !== 1) throw new FrameError('format', `${messages.length} HDLC messages where one APDU was expected`);
  const apdu = messages[0]!;
  if (apdu.length === 0) throw new FrameError('format', 'HDLC frame without an information field');
  return apdu;
}

/**
 * General Block Transfer (IEC 62056-5-3): blocks of E0 | control (bit 7 last block) | block
 * number (2) | acknowledged block number (2) | A-XDR length | data, numbered consecutively,
 * joined until the last block. A missing block is a truncated frame.
 */
export function generalBlockTransfer(stream: Uint8Array): Uint8Array {
  const blocks: Uint8Array[] = [];
  let i = 0;
  let expected: number | undefined;
  for (let n = 0; n < MAX_FRAMES; n++) {
    if (i >= stream.length) throw new FrameError('truncated', 'the last general block transfer block is missing');
    if (stream[i] !== GENERAL_BLOCK_TRANSFER) throw new FrameError('format', 'general block transfer block expected');
    if (i + 7 > stream.length) throw new FrameError('truncated', 'general block transfer header');
    const control = stream[i + 1]!;
    const number = (stream[i + 2]! << 8) | stream[i + 3]!;
    if (expected !== undefined && number !== expected) {
      throw new FrameError('truncated', `general block transfer block ${number} where ${expected} was expected`);
    }
    expected = (number + 1) & 0xffff;
    let p = i + 6;
    let length = stream[p++]!;
    if (length & 0x80) {
      const size = length & 0x7f;
      if (size === 0 || size > 2) throw new FrameError('format', 'general block transfer length');
      if (p + size > stream.length) throw new FrameError('truncated', 'general block transfer length');
      length = 0;
      for (let k = 0; k < size; k++) length = length * 256 + stream[p++]!;
    }
    if (p + length > stream.length) throw new FrameError('truncated', 'general block transfer block');
    blocks.push(stream.subarray(p, p + length));
    i = p + length;
    if (control & 0x80) {
      if (i !== stream.length) throw new FrameError('format', 'data after the last general block transfer block');
      return Buffer.concat(blocks);
    }
  }
  throw new FrameError('format', 'too many general block transfer blocks');
}
