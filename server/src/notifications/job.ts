import type { JobDefinition } from '../platform/jobs/index.js';
import type { Notifications } from './service.js';

export const NOTIFICATIONS_SENDER_JOB = 'notification sender';

/**
 * The sender: takes the deliveries that are due under a lease each (`delivery:<id>`, so two
 * processes never send the same one), sends them one by one and records every attempt. Retries
 * come due on their own: the job looks every `everyMs` too.
 */
export function notificationSenderJob(service: Notifications, options: { batch?: number; everyMs?: number; delayMs?: number } = {}): JobDefinition {
  const { batch = 50, everyMs = 30_000, delayMs = 500 } = options;
  return {
    name: NOTIFICATIONS_SENDER_JOB,
    delayMs,
    everyMs,
    async pass({ lease }) {
      const due = await service.dueDeliveries(batch + 1);
      const ids = due.slice(0, batch);
      const held = await lease(ids.map((id) => `delivery:${id}`));
      for (const unit of held) await service.send(unit.slice('delivery:'.length));
      return { done: held.length, more: due.length > batch };
    },
    waitingSince: () => service.waitingSince(),
  };
}
