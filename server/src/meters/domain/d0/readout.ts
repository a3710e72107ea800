import { FrameError } from '../decoder.js';

/** One data set: an address (reduced OBIS code) and its values, one per pair of parentheses. */
export interface D0DataSet {
  readonly address: string;
  readonly values: readonly string[];
}

export interface D0Readout {
  /** The identification line without "/" and CR LF, e.g. "ESY5Q3DB1024 V3.04". */
  readonly identification: string;
  /** The three-letter manufacturer code (FLAG id). */
  readonly manufacturer: string;
  /** Framed by STX … ETX BCC (a readout in modes A–C) or pushed unframed (mode D). */
  readonly framed: boolean;
  readonly dataSets: readonly D0DataSet[];
}

const STX = 0x02;
const ETX = 0x03;
const LF = 0x0a;
const CR = 0x0d;
const BANG = 0x21;
/** Readouts with load profiles run to a few kilobytes; anything much larger is not one. */
export const MAX_READOUT = 64 * 1024;
/** IEC 62056-21 limits an address to 16 characters and a value to 128 (with unit). */
const MAX_ADDRESS = 32;
const MAX_VALUE = 256;
const ADDRESS = /^[0-9A-Za-z][0-9A-Za-z.:*&-]*$/;
/** "/", three letters (the manufacturer), the baud rate character, optionally "\W", identification. */
const IDENTIFICATION = /^([A-Za-z]{3})([0-9A-Za-z])(?:\\[0-9A-Za-z@])?[\x20-\x7e]{0,40}$/;

/** The identification line ("/XXXZ…") without "/" and CR LF, or undefined if there is none. */
export function identificationLine(frame: Uint8Array): { text: string; end: number } | undefined {
  if (frame[0] !== 0x2f) return undefined;
  const lf = frame.subarray(0, 64).indexOf(LF);
  if (lf < 0) return undefined;
  const stop = lf > 0 && frame[lf - 1] === CR ? lf - 1 : lf;
  const text = Buffer.from(frame.subarray(1, stop)).toString('latin1');
  return IDENTIFICATION.test(text) ? { text, end: lf + 1 } : undefined;
}

/**
 * Splits an IEC 62056-21 data readout: the identification line "/XXXZ<ident>" CR LF, then either
 * STX <data block> ETX BCC (the block check character is the XOR of every byte after STX up to
 * and including ETX) or, pushed in mode D, the data block alone. The data block is data sets
 * `address(value)…` ended by "!" CR LF; data sets follow each other on a line or on new lines,
 * and one may carry several parenthesised values. Whatever follows "!" (gateways append
 * their own lines) is not the meter's.
 */
export function parseD0Readout(frame: Uint8Array, ignoreBcc: boolean): D0Readout {
  if (frame.length > MAX_READOUT) throw new FrameError('format', `a D0 readout is at most ${MAX_READOUT} bytes`);
  if (frame[0] !== 0x2f) throw new FrameError('format', 'a D0 readout begins with "/"');
  const ident = identificationLine(frame);
  if (!ident) {
    const lf = frame.subarray(0, 64).indexOf(LF);
    throw new FrameError(lf < 0 && frame.length < 64 ? 'truncated' : 'format', 'no identification line "/XXXZ<identification>"');
  }
  let start = ident.end;
  while (start < frame.length && (frame[start] === CR || frame[start] === LF)) start++;
  const framed = frame[start] === STX;
  let block: Uint8Array;
  if (framed) {
    const etx = frame.indexOf(ETX, start + 1);
    if (etx < 0) throw new FrameError('truncated', 'no ETX ends the data block');
    if (etx + 1 >= frame.length) throw new FrameError('truncated', 'no block check character after ETX');
    let bcc = 0;
    for (let i = start + 1; i <= etx; i++) bcc ^= frame[i]!;
    const sent = frame[etx + 1]!;
    if (bcc !== sent && !ignoreBcc) {
      throw new FrameError('crc', `block check character 0x${sent.toString(16).padStart(2, '0')} sent, 0x${bcc.toString(16).padStart(2, '0')} computed`);
    }
    block = frame.subarray(start + 1, etx);
  } else {
    block = frame.subarray(start);
  }
  const { dataSets, ended } = parseDataBlock(block);
  if (!ended) throw new FrameError(framed ? 'format' : 'truncated', 'no "!" ends the data block');
  return { identification: ident.text, manufacturer: ident.text.slice(0, 3).toUpperCase(), framed, dataSets };
}

/** Reads data sets up to the "!" that ends the block; `ended` says whether it was found. */
function parseDataBlock(block: Uint8Array): { dataSets: D0DataSet[]; ended: boolean } {
  const dataSets: D0DataSet[] = [];
  let i = 0;
  while (i < block.length) {
    const byte = block[i]!;
    if (byte === CR || byte === LF) {
      i++;
      continue;
    }
    if (byte === BANG) return { dataSets, ended: true };
    // The address runs to the first "(".
    const addressStart = i;
    while (i < block.length && block[i] !== 0x28) {
      const b = block[i]!;
      if (b === CR || b === LF || b === BANG || b === 0x29 || b === 0x2f) {
        throw new FrameError('format', `data set "${latin1(block, addressStart, i + 1)}" has no value in parentheses`);
      }
      if (i - addressStart >= MAX_ADDRESS) throw new FrameError('format', `address "${latin1(block, addressStart, i)}…" is too long`);
      i++;
    }
    if (i >= block.length) return { dataSets, ended: false };
    const address = latin1(block, addressStart, i).trim();
    if (address !== '' && !ADDRESS.test(address)) throw new FrameError('format', `"${address}" is not a data set address`);
    const values: string[] = [];
    while (i < block.length && block[i] === 0x28) {
      const valueStart = ++i;
      while (i < block.length && block[i] !== 0x29) {
        const b = block[i]!;
        if (b === 0x28 || b === CR || b === LF || b < 0x20 || b > 0x7e) {
          throw new FrameError('format', `value of "${address}" holds byte 0x${b.toString(16).padStart(2, '0')}`);
        }
        if (i - valueStart >= MAX_VALUE) throw new FrameError('format', `value of "${address}" is too long`);
        i++;
      }
      if (i >= block.length) return { dataSets, ended: false };
      values.push(latin1(block, valueStart, i));
      i++; // ")"
    }
    // "(…)(…)" with no address continues the previous data set (a value on the next line).
    if (address === '') {
      const previous = dataSets.pop();
      if (!previous) throw new FrameError('format', 'a value in parentheses without an address');
      dataSets.push({ address: previous.address, values: [...previous.values, ...values] });
    } else dataSets.push({ address, values });
  }
  return { dataSets, ended: false };
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.subarray(start, end)).toString('latin1');
}
