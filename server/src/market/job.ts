import type { Db } from '../platform/store/db.js';
import type { EventPublisher, EventSubscriber } from '../platform/events/index.js';
import type { JobDefinition, JobWaker } from '../platform/jobs/index.js';
import { HOUR_MS, MINUTE_MS } from '../kernel/time.js';
import { marketCommunities } from './store.js';
import { catchUpSlots, clearDueSlots, correctSettledSlots, settleDueSlots } from './service.js';
import { requestDuePayouts } from './payouts.js';

export const MARKET_JOB = 'market';

export interface MarketJobOptions {
  /** The clock (tests move it). */
  readonly now?: () => number;
  /** How far back a pass clears slots whose gate closed while nothing ran (default 1 h). */
  readonly lookbackMs?: number;
  /** How long after a slot's end its intervals count as final and it is settled (default 30 min). */
  readonly finalDelayMs?: number;
  /** How often the job runs unwoken (default every minute, so each gate closure is met within one). */
  readonly everyMs?: number;
  readonly log?: (line: string) => void;
}

export interface MarketJob {
  readonly definition: JobDefinition;
  /**
   * Clears the community's slots since `fromMs` as their meter data comes in, pass by pass, instead
   * of the last `lookbackMs`, and settles them as that data becomes final (the demo, while its day
   * is replayed); back to normal once caught up.
   */
  catchUpFrom(communityId: string, fromMs: number): void;
  /** These quarter hours of the community changed: the next pass corrects those already settled. */
  intervalsChanged(communityId: string, startsMs: readonly number[]): void;
}

/**
 * The market job on the platform's runner, each community leased: clears every slot whose gate
 * has closed (agents post first) and settles cleared slots whose intervals are final. Clearing and
 * settling are each written once per slot, so a pass run again changes nothing; settled slots whose
 * intervals changed afterwards (intervals.changed) get a correction run; wallets above the payout
 * threshold get this month's payout request (once per month); a community that
 * fails is logged and retried on the next pass without holding up the others.
 */
export function marketJob(db: Db, events: EventPublisher, options: MarketJobOptions = {}): MarketJob {
  const now = options.now ?? Date.now;
  const lookbackMs = options.lookbackMs ?? HOUR_MS;
  const finalDelayMs = options.finalDelayMs ?? 30 * MINUTE_MS;
  const log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  const catchUp = new Map<string, number>();
  const changed = new Map<string, Set<number>>();
  const remember = (communityId: string, startsMs: Iterable<number>) => {
    const set = changed.get(communityId) ?? new Set<number>();
    for (const start of startsMs) set.add(start);
    changed.set(communityId, set);
  };
  return {
    intervalsChanged: remember,
    catchUpFrom(communityId, fromMs) {
      catchUp.set(communityId, Math.min(catchUp.get(communityId) ?? fromMs, fromMs));
    },
    definition: {
      name: MARKET_JOB,
      delayMs: 1_000,
      everyMs: options.everyMs ?? MINUTE_MS,
      async pass({ lease }) {
        const nowMs = now();
        let done = 0;
        for (const communityId of await lease(await marketCommunities(db))) {
          const late = changed.get(communityId);
          changed.delete(communityId);
          try {
            const from = catchUp.get(communityId);
            let endedByMs = nowMs - finalDelayMs;
            if (from === undefined) {
              done += await clearDueSlots(db, events, communityId, nowMs, lookbackMs);
            } else {
              const result = await catchUpSlots(db, events, communityId, from, nowMs);
              done += result.cleared;
              endedByMs = result.dataUntilMs - finalDelayMs;
              if (result.done) catchUp.delete(communityId);
            }
            done += await settleDueSlots(db, events, communityId, nowMs, endedByMs);
            if (late) done += await correctSettledSlots(db, events, communityId, [...late], nowMs);
            done += await requestDuePayouts(db, events, communityId, nowMs);
          } catch (error) {
            // Kept for the next pass: the corrections are not lost with a failed one.
            if (late) remember(communityId, late);
            log(`gridshare: market of community ${communityId}: ${(error as Error).message}`);
          }
        }
        return { done, more: false };
      },
    },
  };
}

/** New quarter hours may make a traded slot final (settle it) or change a settled one (correct it): the job is told and woken. */
export function subscribeMarket(events: EventSubscriber, jobs: JobWaker, market: MarketJob): void {
  events.afterCommit('intervals.changed', ({ communityId, startsMs }) => {
    market.intervalsChanged(communityId, startsMs);
    jobs.wake(MARKET_JOB);
  });
}
