import type { Db } from '../platform/store/db.js';
import type { EventPublisher } from '../platform/events/index.js';
import type { JobDefinition } from '../platform/jobs/index.js';
import { deviceOfflineThresholds } from '../registry/index.js';
import { recordOfflineAlert, untoldOfflineDevices } from './store.js';

export const DEVICE_OFFLINE_JOB = 'device offline alerts';

/**
 * Device offline (issue 21): in each community with a threshold (`deviceOfflineMinutes`), the
 * devices that sent nothing for longer are offline; each outage is published once as
 * `device.offline` (notifications tells the device's member), its alert row committed with the
 * event. A device that sends again and falls silent later is a new outage.
 */
export function deviceOfflineJob(db: Db, events: EventPublisher, options: { now?: () => number; everyMs?: number; batch?: number } = {}): JobDefinition {
  const { now = Date.now, everyMs = 60_000, batch = 500 } = options;
  return {
    name: DEVICE_OFFLINE_JOB,
    delayMs: 1_000,
    everyMs,
    async pass() {
      const nowMs = now();
      let done = 0;
      let more = false;
      for (const { communityId, minutes } of await deviceOfflineThresholds(db)) {
        const silent = await untoldOfflineDevices(db, communityId, nowMs - minutes * 60_000, batch);
        more ||= silent.length === batch;
        for (const { deviceId, lastSeenMs } of silent) {
          await events.transaction(db, async (tx, publish) => {
            if (!(await recordOfflineAlert(tx, communityId, deviceId, lastSeenMs, nowMs))) return;
            await publish('device.offline', { communityId, deviceId, lastSeenMs, thresholdMinutes: minutes, atMs: nowMs });
            done += 1;
          });
        }
      }
      return { done, more: more && done > 0 };
    },
  };
}
