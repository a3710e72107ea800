import type { Db } from '../platform/store/db.js';
import type { EventPublisher } from '../platform/events/index.js';
import type { JobDefinition } from '../platform/jobs/index.js';
import { createLocalClock, localDateOf } from '../kernel/calendar.js';
import { loadCommunity } from '../registry/index.js';
import { addDays } from './facts.js';
import { insertReminder, reminderCandidates } from './store.js';

export const PAYMENT_REMINDER_JOB = 'payment reminders';

/**
 * Payment due (issue 21): finds the invoices a member owes whose due date has passed in their
 * community's time zone and that are not paid (open, partial or failed; a corrected invoice counts
 * through its correction), and publishes `payment.overdue` once per invoice — the reminder's row
 * and the event commit together, so a replay or a second process tells no one twice. Statements
 * of a community that issues no invoices have no due date kept and no payment status: no reminder.
 */
export function paymentReminderJob(db: Db, events: EventPublisher, options: { now?: () => number; everyMs?: number; batch?: number } = {}): JobDefinition {
  const { now = Date.now, everyMs = 3_600_000, batch = 200 } = options;
  return {
    name: PAYMENT_REMINDER_JOB,
    delayMs: 1_000,
    everyMs,
    async pass() {
      const nowMs = now();
      // A day past UTC's date covers every zone ahead of UTC; each invoice is checked in its own zone below.
      const candidates = await reminderCandidates(db, addDays(new Date(nowMs).toISOString().slice(0, 10), 1), batch);
      const today = new Map<string, string | undefined>();
      let done = 0;
      for (const invoice of candidates) {
        if (!today.has(invoice.communityId)) {
          const community = await loadCommunity(db, invoice.communityId);
          today.set(invoice.communityId, community && localDateOf(nowMs, createLocalClock(community.timeZone)));
        }
        const localToday = today.get(invoice.communityId);
        if (localToday === undefined || invoice.dueDate >= localToday) continue;
        await events.transaction(db, async (tx, publish) => {
          if (!(await insertReminder(tx, invoice.communityId, invoice.invoiceId, nowMs))) return;
          await publish('payment.overdue', { communityId: invoice.communityId, invoiceId: invoice.invoiceId, statementId: invoice.statementId, memberId: invoice.memberId, atMs: nowMs });
          done += 1;
        });
      }
      return { done, more: candidates.length === batch && done > 0 };
    },
  };
}
