import { QUARTER_HOUR_MS } from '../../kernel/time.js';

/**
 * The store-and-forward queue's rules, without the database: which quantities are registers,
 * how queued messages are packed into one uplink message, and how the queue is thinned when it
 * reaches its size cap.
 *
 * Cap policy (in this order, oldest first, the newest hour never touched):
 *  1. thin: per quarter hour keep only the first and the last message, and of those only the
 *     cumulative registers (energy, volume): the interval energy the platform computes
 *     (registers interpolated at the quarter-hour boundaries) stays what it would have been,
 *     only the power samples within the quarter hour are gone;
 *  2. drop: only when every older quarter hour is thinned and the queue is still over its cap,
 *     the oldest messages are dropped and counted (heartbeat `store.droppedReadings`).
 */
export interface QueuedReading {
  readonly ts: string;
  readonly quantity: string;
  readonly value: number;
  readonly unit: string;
}

/** Units of cumulative registers: their readings are what interval energy is made of. */
const REGISTER_UNITS: ReadonlySet<string> = new Set(['Wh', 'varh', 'm3']);

export function isRegister(reading: QueuedReading): boolean {
  return REGISTER_UNITS.has(reading.unit);
}

export function registersOnly(readings: readonly QueuedReading[]): QueuedReading[] {
  return readings.filter(isRegister);
}

/** The platform's limits on one message (README: 128 KiB, 1,000 readings), with a margin for the envelope. */
export const UPLINK_LIMITS = { maxReadings: 1_000, maxBytes: 120 * 1024 } as const;

export interface ReadingsRow {
  readonly seq: number;
  readonly count: number;
  /** A JSON array of readings. */
  readonly json: string;
}

export interface PackedMessage {
  readonly seqs: number[];
  readonly readings: number;
  readonly body: string;
}

/**
 * Consecutive queued messages in one uplink message of at most `maxReadings` readings (the
 * bucket's grant) and the platform's size: in order, never splitting a message. The first row
 * always goes, even when larger than the grant, so the queue cannot stall on it.
 */
export function packReadings(rows: readonly ReadingsRow[], maxReadings: number, maxBytes: number = UPLINK_LIMITS.maxBytes): PackedMessage | undefined {
  const seqs: number[] = [];
  const parts: string[] = [];
  let readings = 0;
  let bytes = 14;
  for (const row of rows) {
    const inner = row.json.slice(1, -1);
    if (seqs.length > 0 && (readings + row.count > Math.min(maxReadings, UPLINK_LIMITS.maxReadings) || bytes + inner.length + 1 > maxBytes)) break;
    seqs.push(row.seq);
    if (inner !== '') parts.push(inner);
    readings += row.count;
    bytes += inner.length + 1;
  }
  if (seqs.length === 0) return undefined;
  return { seqs, readings, body: `{"readings":[${parts.join(',')}]}` };
}

/** The quarter-hour number a message is filed under. */
export const quarterOf = (ms: number): number => Math.floor(ms / QUARTER_HOUR_MS);

export interface RowMeta {
  readonly seq: number;
  /** UTC quarter hour (ms / 900,000) of the message's time. */
  readonly quarter: number;
  /** 'readings', or the frame format of a raw frame. */
  readonly kind: string;
}

export interface ThinningStep {
  /** Messages to delete. */
  readonly drop: number[];
  /** Messages to keep, reduced to their registers. */
  readonly keep: number[];
}

/**
 * One thinning step over not yet thinned messages in queue order. With `complete` false the
 * rows are a prefix of a longer run, and their last quarter hour may continue beyond it: that
 * quarter hour is left for the next step.
 */
export function thinningStep(rows: readonly RowMeta[], complete: boolean): ThinningStep {
  const lastQuarter = rows.length > 0 ? rows[rows.length - 1]!.quarter : undefined;
  const groups = new Map<string, number[]>();
  for (const row of rows) {
    if (!complete && row.quarter === lastQuarter) continue;
    const key = `${row.quarter}/${row.kind}`;
    const group = groups.get(key);
    if (group) group.push(row.seq);
    else groups.set(key, [row.seq]);
  }
  const drop: number[] = [];
  const keep: number[] = [];
  for (const seqs of groups.values()) {
    keep.push(seqs[0]!);
    if (seqs.length > 1) keep.push(seqs[seqs.length - 1]!);
    drop.push(...seqs.slice(1, -1));
  }
  return { drop: drop.sort((a, b) => a - b), keep: keep.sort((a, b) => a - b) };
}
