import type { Db } from '../platform/store/db.js';
import type { EventSubscriber } from '../platform/events/index.js';
import type { JobDefinition, JobWaker } from '../platform/jobs/index.js';
import { markSharingDirty, markSharingDirtyFrom, processSharingDirty, type ProvisionalFigures } from './service.js';
import { deleteCommunityEnergy } from './store.js';

export const SHARING_JOB = 'sharing';

/** The sharing job on the platform's runner: splits the marked quarter hours by source per member, communities leased. */
export function sharingJob(db: Db, provisionalFigures: ProvisionalFigures, delayMs = 500): JobDefinition {
  return {
    name: SHARING_JOB,
    delayMs,
    async pass({ lease }) {
      const done = await processSharingDirty(db, provisionalFigures, undefined, lease);
      return { done, more: done > 0 };
    },
  };
}

/**
 * What makes a community's split stale, marked in the transaction of the change that caused it:
 * quarter hours whose energy changed, a member's new start, a new allocation rule or mode. Once
 * committed the job is woken (also when a site became or stopped being the community battery).
 * `jobs` is left out only where nothing runs the job (tests that run passes themselves).
 * A deleted community's member energy, which has no foreign key to its members (one would be
 * checked for every row the job writes), goes after it; durable: the outbox retries until done, once.
 */
export function subscribeSharing(events: EventSubscriber, jobs?: JobWaker): void {
  events.durable('community.deleted', 'sharing', (tx, { communityId }) => deleteCommunityEnergy(tx, communityId));
  const wake = () => jobs?.wake(SHARING_JOB);
  events.inTransaction('intervals.changed', (tx, { communityId, startsMs }) => markSharingDirty(tx, communityId, startsMs));
  events.afterCommit('intervals.changed', wake);
  events.inTransaction('membership.changed', (tx, { communityId, fromMs }) => markSharingDirtyFrom(tx, communityId, fromMs));
  events.afterCommit('membership.changed', wake);
  events.inTransaction('community.changed', async (tx, { communityId, allocationFromMs }) => {
    if (allocationFromMs !== null) await markSharingDirtyFrom(tx, communityId, allocationFromMs);
  });
  events.afterCommit('community.changed', wake);
  events.afterCommit('site.changed', (site) => {
    if (site.change === 'community-battery') wake();
  });
}
