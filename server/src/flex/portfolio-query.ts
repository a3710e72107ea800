import { randomUUID } from 'node:crypto';
import type { Db } from '../platform/store/db.js';
import type { JobDefinition } from '../platform/jobs/index.js';
import { nextPeriodGate } from './domain/portfolio.js';
import { WRITTEN_VERSION } from './domain/uftp/inbound.js';
import { croQueriesDue } from './store.js';
import type { UftpTransport } from './transport.js';

export const FLEX_PORTFOLIO_QUERY_JOB = 'flex portfolio query';
/** How often the AGR asks each CRO of its address book for its portfolio: daily. */
export const PORTFOLIO_QUERY_INTERVAL_MS = 24 * 3_600_000;

/**
 * The plan phase's portfolio from the CRO: once a day the community asks every CRO of its address
 * book (not barred) with an AGRPortfolioQuery for tomorrow's Period (the day the next D-Prognosis
 * is for); the CRO's AGRPortfolioQueryResponse updates the congestion points and their connections
 * when the transport accepts it (portfolio.ts: applyPortfolioQueryResponse). A query that found no
 * answer is asked again a day later; the outbox retries its delivery meanwhile.
 */
export class FlexPortfolioQueries {
  constructor(private readonly options: { db: Db; transport: UftpTransport; now: () => number }) {}

  /** One pass: queries every leased community's CROs it has not asked for a day. */
  async sendDue(lease: (units: readonly string[]) => Promise<string[]>): Promise<{ done: number; more: boolean }> {
    const nowMs = this.options.now();
    const due = await croQueriesDue(this.options.db, nowMs - PORTFOLIO_QUERY_INTERVAL_MS);
    const leased = new Set(await lease([...new Set(due.map((d) => d.communityId))]));
    let done = 0;
    for (const { communityId, identityDomain, timeZone, croDomain } of due.filter((d) => leased.has(d.communityId))) {
      await this.options.transport.send(communityId, {
        type: 'AGRPortfolioQuery', version: WRITTEN_VERSION, senderDomain: identityDomain, recipientDomain: croDomain, timeStamp: nowMs,
        messageId: randomUUID(), conversationId: randomUUID(), timeZone, period: nextPeriodGate(nowMs, timeZone, '00:00').period,
      });
      done += 1;
    }
    return { done, more: false };
  }
}

/** The `flex portfolio query` job: hourly, each CRO asked at most once a day. */
export function flexPortfolioQueryJob(queries: FlexPortfolioQueries): JobDefinition {
  return { name: FLEX_PORTFOLIO_QUERY_JOB, delayMs: 1000, everyMs: 3_600_000, pass: ({ lease }) => queries.sendDue(lease) };
}
