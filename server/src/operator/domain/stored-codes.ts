import type { ConsumptionRecord, OperatorQuality } from './consumption-record.js';
import { EdaInputError } from './errors.js';
import { figureFromCodes, type OperatorFigure } from './figures.js';

/**
 * The operator's codes of one Zählpunkt and quarter hour as the import service keeps them: each
 * code's exact value with its quality and the message that gave it. Keeping codes (not only the
 * four allocation fields) lets the reconciliation check the operator's own figures (share,
 * participating values, the exact community balance) long after the message was imported.
 */
export interface StoredCode {
  readonly milliWh: number;
  readonly quality: OperatorQuality;
  readonly messageId: string;
  /** DocumentCreationDateTime of that message; null when the message had none. */
  readonly createdAtMs: number | null;
}

export type StoredCodes = Readonly<Record<string, StoredCode>>;

const QUALITIES: readonly OperatorQuality[] = ['measured', 'substitute', 'unspecified', 'provisional'];

/** Per UTC quarter hour, the codes one message carries for its Zählpunkt. */
export function messageCodes(record: ConsumptionRecord): Map<number, Record<string, StoredCode>> {
  const byStart = new Map<number, Record<string, StoredCode>>();
  for (const block of record.energy) {
    for (const series of block.series) {
      for (const position of series.positions) {
        let codes = byStart.get(position.startMs);
        if (!codes) {
          codes = {};
          byStart.set(position.startMs, codes);
        }
        codes[series.meterCode] = { milliWh: position.milliWh, quality: position.quality, messageId: record.messageId, createdAtMs: record.createdAtMs };
      }
    }
  }
  return byStart;
}

/**
 * Merges a message's codes into what is stored, code by code. The incoming value replaces the
 * stored one unless the stored one comes from a message the operator created later: a late
 * upload of an old message (say, the provisional L3 values after their L1 correction) must not
 * undo the correction. Without creation times on both sides the later import wins, as in
 * `operatorFigures`. Codes the message does not carry are kept.
 */
export function mergeCodes(stored: StoredCodes | undefined, incoming: StoredCodes): StoredCodes {
  const merged: Record<string, StoredCode> = { ...stored };
  for (const [code, value] of Object.entries(incoming)) {
    const earlier = merged[code];
    const newerStored = earlier !== undefined && earlier.createdAtMs !== null && value.createdAtMs !== null && earlier.createdAtMs > value.createdAtMs;
    if (!newerStored) merged[code] = value;
  }
  return merged;
}

/** The figure of stored codes, as `operatorFigures` would give it for the messages they came from. */
export function storedFigure(gridConnectionId: string, communityId: string | null, startMs: number, codes: StoredCodes): OperatorFigure {
  return figureFromCodes(gridConnectionId, communityId, startMs, new Map(Object.entries(codes)));
}

/** Codes read back from storage (JSON), checked field by field: a corrupt row is an error, never a zero. */
export function parseStoredCodes(value: unknown): StoredCodes {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new EdaInputError('stored operator codes are not an object');
  const codes: Record<string, StoredCode> = {};
  for (const [code, entry] of Object.entries(value as Record<string, unknown>)) {
    if (typeof entry !== 'object' || entry === null) throw new EdaInputError(`stored operator code ${code} is not an object`);
    const { milliWh, quality, messageId, createdAtMs } = entry as Record<string, unknown>;
    if (typeof milliWh !== 'number' || !Number.isSafeInteger(milliWh)
      || typeof quality !== 'string' || !(QUALITIES as readonly string[]).includes(quality)
      || typeof messageId !== 'string'
      || (createdAtMs !== null && (typeof createdAtMs !== 'number' || !Number.isSafeInteger(createdAtMs)))) {
      throw new EdaInputError(`stored operator code ${code} is malformed`);
    }
    codes[code] = { milliWh, quality: quality as OperatorQuality, messageId, createdAtMs };
  }
  return codes;
}
