import type { Db } from '../platform/store/db.js';
import type { EventPublisher, EventSubscriber } from '../platform/events/index.js';
import type { JobDefinition, JobWaker } from '../platform/jobs/index.js';
import { processDirty, recheckDeviceReadings, recheckPlausibility } from './service.js';
import { firstIntervalStarts, markQuarters } from './store.js';
import { ConflictError } from '../kernel/errors.js';

export const INTERVAL_JOB = 'intervals';

/**
 * The interval job on the platform's runner: shortly after a wake-up one pass over the dirty
 * metering points (each leased), so under a steady stream each point is recomputed about once per
 * delay rather than over and over; a backlog (more points than a pass takes) and `flush` go on
 * until it is done.
 */
export function intervalJob(db: Db, events: EventPublisher, delayMs = 1_000): JobDefinition {
  return {
    name: INTERVAL_JOB,
    delayMs,
    async pass({ lease }) {
      const { points, more } = await processDirty(db, { events, lease });
      return { done: points, more };
    },
  };
}

/**
 * What makes quarter hours dirty, marked in the transaction of the change that caused it: new
 * readings, a site's new limit, a device's new role. Once committed, the job is woken.
 * `jobs` is left out only where nothing runs the job (tests that run passes themselves).
 */
export function subscribeIntervals(events: EventSubscriber, jobs?: JobWaker): void {
  const wake = () => jobs?.wake(INTERVAL_JOB);
  events.inTransaction('readings.committed', (tx, { quarters }) => markQuarters(tx, quarters));
  events.afterCommit('readings.committed', wake);
  events.inTransaction('site.changed', async (tx, site) => {
    if (site.change === 'limit') await recheckPlausibility(tx, site.communityId, site.meteringPointId);
    if (site.change === 'device-role' && site.deviceId !== null) await recheckDeviceReadings(tx, site.communityId, site.deviceId, site.meteringPointId);
  });
  events.afterCommit('site.changed', (site) => {
    if (site.change === 'limit' || site.change === 'device-role') wake();
  });
  // A site's metered energy is billed and shared: it outlives any wish to remove the site.
  events.inTransaction('site.removing', async (tx, { meteringPointId }) => {
    const since = (await firstIntervalStarts(tx, [meteringPointId])).get(meteringPointId);
    if (since !== undefined) {
      throw new ConflictError(`this site has energy recorded since ${new Date(since).toISOString()}, which stays for billing and sharing; a member who moves away leaves the community instead`);
    }
  });
}
