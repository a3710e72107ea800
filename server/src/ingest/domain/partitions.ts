import { DAY_MS } from '../../kernel/time.js';

/**
 * Which monthly partitions of the readings table to create and which to remove (issue 22). Pure:
 * the job reads the partitions there are and the months the default partition holds rows of, and
 * carries out the plan.
 *
 * A partition holds one UTC month, [first instant, first instant of the next month). The current
 * month and `aheadMonths` after it always exist, so a reading that arrives now never waits for a
 * partition; an earlier month gets one only when readings for it arrived (in the default partition),
 * so a long retention does not mean years of empty tables. A month further ahead waits in the
 * default partition until it comes within reach (readings are refused more than minutes ahead, so
 * only a clock far off, or a direct write, puts one there). A month is removed once the retention
 * has passed for all of it: its end is at or before the cutoff (now − retention); so are the
 * default partition's readings before the cutoff.
 */
export interface Month {
  readonly year: number;
  /** 1–12. */
  readonly month: number;
}

export interface PartitionPlan {
  /** Oldest first: each creation moves that month's rows out of the default partition. */
  readonly create: readonly Month[];
  readonly drop: readonly Month[];
  /** Readings before this instant are past every community's retention. */
  readonly cutoffMs: number;
}

/** The retention (days) and months ahead the plan accepts: beyond them something is wrong upstream. */
export const PARTITION_LIMITS = { maxRetentionDays: 100 * 366, maxAheadMonths: 24 } as const;

export const monthOf = (ms: number): Month => {
  const d = new Date(ms);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1 };
};
export const monthStartMs = (m: Month): number => Date.UTC(m.year, m.month - 1, 1);
export const monthEndMs = (m: Month): number => Date.UTC(m.year, m.month, 1);
const next = (m: Month): Month => (m.month === 12 ? { year: m.year + 1, month: 1 } : { year: m.year, month: m.month + 1 });
const key = (m: Month): number => m.year * 100 + m.month;

/** `readings_p202612` for December 2026: the name says the month, so the plan needs no catalog bounds. */
export const partitionName = (m: Month): string => `readings_p${key(m)}`;
export function monthOfPartition(name: string): Month | undefined {
  const match = /^readings_p(\d{4})(\d{2})$/.exec(name);
  if (!match) return undefined;
  const month = Number(match[2]);
  return month >= 1 && month <= 12 ? { year: Number(match[1]), month } : undefined;
}

export function planPartitions(input: {
  readonly nowMs: number;
  readonly retentionDays: number;
  readonly aheadMonths: number;
  readonly existing: readonly Month[];
  /** Months of which the default partition holds readings. */
  readonly inDefault: readonly Month[];
}): PartitionPlan {
  const { nowMs, retentionDays, aheadMonths } = input;
  if (!Number.isFinite(nowMs)) throw new RangeError(`partition plan: now is not a time (${nowMs})`);
  if (!Number.isSafeInteger(retentionDays) || retentionDays < 1 || retentionDays > PARTITION_LIMITS.maxRetentionDays) {
    throw new RangeError(`partition plan: retention must be 1 to ${PARTITION_LIMITS.maxRetentionDays} whole days, got ${retentionDays}`);
  }
  if (!Number.isSafeInteger(aheadMonths) || aheadMonths < 0 || aheadMonths > PARTITION_LIMITS.maxAheadMonths) {
    throw new RangeError(`partition plan: months ahead must be 0 to ${PARTITION_LIMITS.maxAheadMonths}, got ${aheadMonths}`);
  }
  const cutoffMs = nowMs - retentionDays * DAY_MS;
  const have = new Set(input.existing.map(key));
  const wanted = new Map<number, Month>();
  let month = monthOf(nowMs);
  for (let i = 0; i <= aheadMonths; i++, month = next(month)) wanted.set(key(month), month);
  const lastAhead = Math.max(...wanted.keys());
  for (const m of input.inDefault) if (monthEndMs(m) > cutoffMs && key(m) <= lastAhead) wanted.set(key(m), m);
  const create = [...wanted.values()].filter((m) => !have.has(key(m))).sort((a, b) => key(a) - key(b));
  const drop = input.existing.filter((m) => monthEndMs(m) <= cutoffMs).sort((a, b) => key(a) - key(b));
  return { create, drop, cutoffMs };
}
