import type { Db } from '../platform/store/db.js';
import type { EventSubscriber } from '../platform/events/index.js';
import type { JobDefinition } from '../platform/jobs/index.js';
import type { PlanTrigger } from '@gridshare/contract/optimise';
import { DAY_MS, MINUTE_MS } from '../kernel/time.js';
import { horizonStart } from './domain/assemble.js';
import { SOC_READING_MAX_AGE_MS, type PlanService } from './service.js';
import { DeviceStateWatch } from './state-watch.js';
import { controlledCommunities, latestPlan, prunePlans } from './store.js';

export const OPTIMISE_JOB = 'optimise';

/** Plans are kept this long (each community's latest is kept whatever its age). */
export const PLAN_RETENTION_DAYS = 35;

/** What the composition root and the routes hold: the job and a way to have a community planned again soon. */
export interface OptimiseJob {
  readonly definition: JobDefinition;
  /** Plans the community again on the next pass (a new forecast, an override, changed settings). */
  replan(communityId: string, trigger: PlanTrigger): void;
  /** Compares devices' state reports with the latest plans; a departure re-plans (`device-state`). */
  readonly stateWatch: DeviceStateWatch;
}

/**
 * Model predictive control on the platform's runner, each community leased: every quarter hour
 * a community with a device its member lets the plan control is planned again for the rolling
 * horizon from the next quarter hour (unless it already has a plan from that quarter hour), and
 * at once (after `delayMs`) when something it plans with changed. Each pass also deletes the plans
 * older than PLAN_RETENTION_DAYS (of every community: deleting twice deletes nothing more).
 */
export function optimiseJob(db: Db, service: PlanService, options: { delayMs?: number; wake: () => void }): OptimiseJob {
  const pending = new Map<string, PlanTrigger>();
  const replan = (communityId: string, trigger: PlanTrigger) => {
    // The latest reason names the plan.
    pending.set(communityId, trigger);
    options.wake();
  };
  const stateWatch = new DeviceStateWatch(db, {
    now: service.settings.now, maxAgeMs: SOC_READING_MAX_AGE_MS, onDeparture: (communityId) => replan(communityId, 'device-state'),
  });
  return {
    replan,
    stateWatch,
    definition: {
      name: OPTIMISE_JOB,
      delayMs: options.delayMs ?? 2_000,
      everyMs: 15 * MINUTE_MS,
      async pass({ lease }) {
        // State reports heard so far have said whether they re-plan.
        await stateWatch.settled();
        const triggered = new Map(pending);
        pending.clear();
        const candidates = [...new Set([...await controlledCommunities(db), ...triggered.keys()])];
        const held = new Set(await lease(candidates));
        // Another process holds these: their triggers wait for the next pass here.
        for (const [id, trigger] of triggered) if (!held.has(id)) pending.set(id, trigger);
        await prunePlans(db, service.settings.now() - PLAN_RETENTION_DAYS * DAY_MS);
        let done = 0;
        for (const communityId of held) {
          const trigger = triggered.get(communityId);
          if (!trigger) {
            const last = await latestPlan(db, communityId);
            if (last && last.horizonStartMs === horizonStart(service.settings.now())) continue;
          }
          if (await service.plan(communityId, trigger ?? 'schedule')) done += 1;
        }
        return { done, more: false };
      },
    },
  };
}

/**
 * New forecasts, overrides and a device's state departing from the plan (state-watch.ts) re-plan the community; an override is recorded in the publisher's
 * transaction (from the device through control, or from the app), so the next plan respects it.
 */
export function subscribeOptimise(events: EventSubscriber, service: PlanService, job: OptimiseJob): void {
  events.afterCommit('forecast.issued', ({ communityId }) => job.replan(communityId, 'forecast'));
  events.inTransaction('device.override', async (tx, { communityId, deviceId, untilMs, source }) => {
    await service.recordOverride(tx, communityId, deviceId, untilMs, source);
  });
  events.afterCommit('device.override', ({ communityId }) => job.replan(communityId, 'override'));
  events.afterCommit('readings.committed', ({ messages }) => job.stateWatch.heard(messages));
  events.afterCommit('plan.decided', ({ communityId }) => job.stateWatch.planned(communityId));
}
