import type { Db } from '../platform/store/db.js';
import type { EventSubscriber } from '../platform/events/index.js';
import type { JobDefinition, JobWaker } from '../platform/jobs/index.js';
import type { ControlService } from './service.js';
import { communitiesWithOpenCommands } from './store.js';

export const CONTROL_JOB = 'control';

/**
 * The delivery job, each community leased: expires open commands past their expiry, publishes new
 * commands over MQTT and publishes again those sent without an answer once their retry is due.
 * Runs every 15 s and when new commands are stored.
 */
export function controlJob(db: Db, control: ControlService): JobDefinition {
  return {
    name: CONTROL_JOB,
    delayMs: 50,
    everyMs: 15_000,
    async pass({ lease }) {
      let done = 0;
      let more = false;
      for (const communityId of await lease(await communitiesWithOpenCommands(db))) {
        const result = await control.deliverDue(communityId);
        done += result.done;
        more ||= result.more;
      }
      return { done, more };
    },
  };
}

/** A decided plan's commands are stored in the plan's own transaction (none is lost, none stored twice), and delivered once it committed. */
export function subscribeControl(events: EventSubscriber, jobs: JobWaker, control: ControlService): void {
  events.inTransaction('plan.decided', (tx, plan, publish) => control.planDecided(tx, plan, publish));
  events.afterCommit('plan.decided', () => jobs.wake(CONTROL_JOB));
}
