import { readFileSync, readdirSync, statSync } from 'node:fs';
import { expect } from 'vitest';
import { FrameError, type DecodedFrame } from '../../src/meters/domain/decoder.js';
import { isQuantity, QUANTITY_UNITS } from '../../src/kernel/quantities.js';
import { fileURLToPath } from 'node:url';

/** The shared conformance vectors (`../shared/vectors` next to the work tree). */
export const VECTORS_DIR = fileURLToPath(new URL('../../../../shared/vectors/', import.meta.url));

export interface VectorEntry {
  readonly file: string;
  readonly kind: string;
  readonly key?: string | null;
  readonly ak?: string | null;
  readonly crcValid?: boolean;
  readonly bccValid?: boolean;
  readonly crc?: string;
  readonly sc?: number;
  readonly plaintextFile?: string;
}

export interface Vector {
  readonly entry: VectorEntry;
  /** The header lines, without their leading "# ". */
  readonly header: string[];
  /** The raw frame as it travels on the wire (hex decoded; text with CR LF and escapes resolved). */
  readonly bytes: Buffer;
}

export const vectorIndex: VectorEntry[] = JSON.parse(readFileSync(`${VECTORS_DIR}index.json`, 'utf8')) as VectorEntry[];

export function vectorFiles(): string[] {
  // Sub-folders (merkle/) hold other kinds of vectors with their own index.
  return readdirSync(VECTORS_DIR).filter((f) => f !== 'README.md' && f !== 'index.json' && statSync(`${VECTORS_DIR}${f}`).isFile()).sort();
}

const MARKER = '# ---- data below this line ----';

/** Loads one vector: `.hex` as bytes, `.txt` with LF → CR LF and `<STX>`, `<ETX>`, `<FF>xN` resolved. */
export function loadVector(file: string): Vector {
  const entry = vectorIndex.find((e) => e.file === file);
  if (!entry) throw new Error(`${file} is not in index.json`);
  const text = readFileSync(`${VECTORS_DIR}${file}`, 'latin1');
  const at = text.indexOf(MARKER);
  if (at < 0) throw new Error(`${file} has no data marker`);
  const header = text.slice(0, at).split('\n').filter(Boolean).map((l) => l.replace(/^# ?/, ''));
  const data = text.slice(at + MARKER.length + 1);
  if (file.endsWith('.hex')) return { entry, header, bytes: Buffer.from(data.replace(/\s+/g, ''), 'hex') };
  const wire = data
    .replace(/\n$/, '')
    .split('\n')
    .join('\r\n')
    .replace(/<STX>/g, '\x02')
    .replace(/<ETX>/g, '\x03')
    .replace(/<FF>x(\d+)/g, (_, n: string) => '\xff'.repeat(Number(n)));
  return { entry, header, bytes: Buffer.from(`${wire}\r\n`, 'latin1') };
}

export const hex = (value: string): Buffer => Buffer.from(value, 'hex');

/**
 * Fuzzing check: a decode either refuses with a FrameError or returns well-formed readings (a
 * known quantity in its own unit, a finite value, a UTC instant; exactly `ts` when given).
 */
export function expectReadingsOrRefusal(decode: () => DecodedFrame, ts?: string): void {
  let decoded: DecodedFrame;
  try {
    decoded = decode();
  } catch (error) {
    if (!(error instanceof FrameError)) throw error;
    return;
  }
  expect(decoded.readings.length).toBeGreaterThan(0);
  for (const r of decoded.readings) {
    expect(isQuantity(r.quantity)).toBe(true);
    expect(r.unit).toBe(QUANTITY_UNITS[r.quantity]);
    expect(Number.isFinite(r.value)).toBe(true);
    if (ts === undefined) expect(r.ts).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    else expect(r.ts).toBe(ts);
  }
}

/** The FrameError code a decoder refuses with, or 'accepted'; any other exception is a bug. */
export function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof FrameError) return error.code;
    throw error;
  }
  return 'accepted';
}
