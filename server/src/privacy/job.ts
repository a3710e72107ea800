import type { JobDefinition } from '../platform/jobs/index.js';
import { DAY_MS } from '../kernel/time.js';
import { communitiesWithMeteringPoints, loadCommunity } from '../registry/index.js';
import { deleteReadingsBefore } from '../ingest/index.js';
import { endBillingRetention } from '../billing/index.js';
import { retentionCutoffs } from './domain/index.js';
import { executeErasure, failErasure, legalMinimumOf, retentionOf, sweepErasedSites, type PrivacyContext } from './service.js';
import * as store from './store.js';

export const PRIVACY_JOB = 'privacy';

/** What one retention run removed, per community and kind. */
export interface RetentionReport {
  readonly communityId: string;
  readonly accessLogEntries: number;
  readonly endedConsents: number;
  /** Raw readings past the raw-readings period (their quarter hours stay), through ingest's `deleteReadingsBefore`. */
  readonly rawReadings: number;
  /** Through billing's `endBillingRetention`: erased members' mandates past their time as evidence, and closed months past the billing-records period with their statements and invoices. */
  readonly mandates: number;
  readonly settlements: number;
  readonly statements: number;
  readonly invoices: number;
}

/**
 * Enforces each community's retention at `now`: access-log entries older than the access-log
 * period, consents that ended before it (unless a kept log entry names them), and raw readings
 * older than the raw-readings period (each series' newest one before it stays as the baseline of
 * the next; the quarter hours made from them stay). Deleting what is gone already deletes
 * nothing, so a second run at the same instant reports zeros.
 */
export async function enforceRetention(ctx: PrivacyContext, communities?: readonly string[]): Promise<RetentionReport[]> {
  const now = ctx.now();
  const reports: RetentionReport[] = [];
  for (const communityId of communities ?? await retainedCommunities(ctx)) {
    const community = await loadCommunity(ctx.db, communityId);
    if (!community) continue;
    const { updatedAt: _updated, ...policy } = await retentionOf(ctx.db, community);
    const cutoffs = retentionCutoffs(policy, legalMinimumOf(community), now, community.timeZone);
    const accessLogEntries = await store.deleteAccessLogBefore(ctx.db, communityId, cutoffs['access-log']);
    const endedConsents = await store.deleteEndedGrantsBefore(ctx.db, communityId, cutoffs['access-log']);
    const rawReadings = await deleteReadingsBefore(ctx.db, communityId, cutoffs['raw-readings']);
    const billing = await endBillingRetention(ctx.db, communityId, cutoffs['billing-records'], now);
    reports.push({ communityId, accessLogEntries, endedConsents, rawReadings, ...billing });
  }
  return reports;
}

/** Every community with privacy records or metering points (whose readings the default policy covers too). */
async function retainedCommunities(ctx: PrivacyContext): Promise<string[]> {
  return [...new Set([...await store.communitiesWithPrivacyData(ctx.db), ...await communitiesWithMeteringPoints(ctx.db)])].sort();
}

export interface PrivacyJobOptions {
  readonly log?: (line: string) => void;
}

/**
 * The privacy job: carries out the erasure requests waiting (each leased, so two processes never
 * erase one member twice), sweeps the sites of the week's erasures for readings that still arrived
 * (idempotent, no lease needed) and, once a day, the retention. Woken by an erasure request.
 */
export function privacyJob(ctx: PrivacyContext, options: PrivacyJobOptions = {}): JobDefinition {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  let lastRetention = Number.NEGATIVE_INFINITY;
  return {
    name: PRIVACY_JOB,
    delayMs: 200,
    everyMs: 60 * 60_000,
    async pass({ lease }) {
      let done = 0;
      const pending = await store.pendingErasures(ctx.db, 20);
      for (const id of await lease(pending.map((p) => `erasure:${p.id}`))) {
        const request = pending.find((p) => `erasure:${p.id}` === id)!;
        try {
          await executeErasure(ctx, request);
        } catch (error) {
          // One request that fails never blocks the others; the manager sees why.
          await failErasure(ctx, request, (error as Error).message);
        }
        done++;
      }
      await sweepErasedSites(ctx);
      const now = ctx.now();
      if (now - lastRetention >= DAY_MS) {
        lastRetention = now;
        const communities = await lease((await retainedCommunities(ctx)).map((c) => `retention:${c}`));
        for (const report of await enforceRetention(ctx, communities.map((c) => c.slice('retention:'.length)))) {
          if (report.accessLogEntries + report.endedConsents + report.rawReadings + report.mandates + report.settlements > 0) {
            log(`privacy retention ${report.communityId}: ${report.accessLogEntries} access-log entries, ${report.endedConsents} ended consents, ${report.rawReadings} raw readings, `
              + `${report.mandates} restricted mandates, ${report.settlements} closed months (${report.statements} statements, ${report.invoices} invoices) removed`);
          }
        }
      }
      return { done, more: pending.length === 20 };
    },
  };
}
