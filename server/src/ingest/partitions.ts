import type { JobDefinition } from '../platform/jobs/index.js';
import type { Db } from '../platform/store/db.js';
import { monthEndMs, monthOf, monthOfPartition, monthStartMs, partitionName, planPartitions, type Month } from './domain/partitions.js';
import {
  createReadingPartition, deleteDefaultReadingsBefore, dropReadingPartition, monthsInDefaultPartition, readingPartitionNames,
} from './store.js';

export const READING_PARTITIONS_JOB = 'reading-partitions';
/** Months created ahead of the current one: two months of a process that never ran the job still find partitions. */
export const PARTITION_AHEAD_MONTHS = 2;

export interface PartitionReport {
  readonly created: readonly string[];
  /** Readings moved out of the default partition into the partitions created. */
  readonly moved: number;
  readonly dropped: readonly string[];
  /** Readings removed with the partitions dropped and from the default partition. */
  readonly removed: number;
}

/**
 * Brings the readings table's partitions in line with `now` and the retention: creates the
 * current month, `aheadMonths` after it and the earlier months the default partition holds
 * readings of; drops the months the retention has passed for, and the default partition's readings
 * before the cutoff. Each change is its own transaction, so a failure keeps what was done before
 * it; a second run at the same instant changes nothing.
 */
export async function maintainReadingPartitions(
  db: Db, options: { nowMs: number; retentionDays: number; aheadMonths?: number },
): Promise<PartitionReport> {
  const existing = (await readingPartitionNames(db)).map(monthOfPartition).filter((m): m is Month => m !== undefined);
  const inDefault = (await monthsInDefaultPartition(db)).map((d) => monthOf(d.getTime()));
  const plan = planPartitions({
    nowMs: options.nowMs, retentionDays: options.retentionDays, aheadMonths: options.aheadMonths ?? PARTITION_AHEAD_MONTHS, existing, inDefault,
  });
  let moved = 0;
  let removed = 0;
  for (const month of plan.create) {
    moved += await db.transaction((tx) => createReadingPartition(tx, partitionName(month), new Date(monthStartMs(month)), new Date(monthEndMs(month))));
  }
  for (const month of plan.drop) removed += await db.transaction((tx) => dropReadingPartition(tx, partitionName(month)));
  removed += await deleteDefaultReadingsBefore(db, new Date(plan.cutoffMs));
  return { created: plan.create.map(partitionName), moved, dropped: plan.drop.map(partitionName), removed };
}

export interface PartitionJobOptions {
  /** The longest raw-readings retention of any community, in days (privacy's policies). */
  readonly retentionDays: () => Promise<number>;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
}

/**
 * The reading-partitions job: runs at start and every six hours, under one lease, so two
 * processes never change the partitions at once.
 */
export function readingPartitionsJob(db: Db, options: PartitionJobOptions): JobDefinition {
  const now = options.now ?? Date.now;
  return {
    name: READING_PARTITIONS_JOB,
    delayMs: 0,
    everyMs: 6 * 60 * 60_000,
    async pass({ lease }) {
      if ((await lease(['readings'])).length === 0) return { done: 0, more: false };
      const report = await maintainReadingPartitions(db, { nowMs: now(), retentionDays: await options.retentionDays() });
      if (report.created.length + report.dropped.length > 0 || report.removed > 0) {
        options.log?.(`reading partitions: created ${report.created.join(', ') || 'none'} (${report.moved} readings moved), dropped ${report.dropped.join(', ') || 'none'} (${report.removed} readings past retention removed)`);
      }
      return { done: report.created.length + report.dropped.length, more: false };
    },
  };
}
