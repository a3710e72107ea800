import type { Db } from '../store/db.js';
import { isEventName, payloadProblem } from '../../kernel/events.js';
import type { JobDefinition } from '../jobs/runner.js';
import type { EventBus } from './bus.js';

export const OUTBOX_JOB = 'event outbox';

export interface OutboxOptions {
  /** Rows one pass takes. */
  batch?: number;
  /** After the n-th failed delivery of a row it waits retryFirstMs × 2^(n−1), at most retryMaxMs. */
  retryFirstMs?: number;
  retryMaxMs?: number;
  /** How often due retries are looked for without a wake-up. */
  everyMs?: number;
}

interface OutboxRow {
  id: string;
  event: string;
  subscriber: string;
  payload: unknown;
}

/**
 * The job that delivers the outbox: each due row to its durable subscriber, in the transaction
 * that deletes the row, so a delivery's writes and its removal commit together (exactly once for
 * what the subscriber writes to the database). A failing delivery is retried later and does not
 * hold up other rows; a row whose payload fails its event's declaration is refused, not retried.
 * Rows are leased, so two processes never deliver the same row at once.
 */
export function outboxJob(db: Db, bus: EventBus, options: OutboxOptions = {}): JobDefinition {
  const { batch = 100, retryFirstMs = 1_000, retryMaxMs = 3_600_000, everyMs = 5_000 } = options;
  return {
    name: OUTBOX_JOB,
    delayMs: 0,
    everyMs,
    async pass({ lease }) {
      const subscriptions = bus.durableSubscriptions();
      if (subscriptions.length === 0) return { done: 0, more: false };
      const due = await db.query<OutboxRow>(
        `SELECT o.id::text AS id, o.event, o.subscriber, o.payload FROM event_outbox o
         JOIN unnest($1::text[], $2::text[]) AS s(event, subscriber) ON s.event = o.event AND s.subscriber = o.subscriber
         WHERE o.refused_at IS NULL AND o.next_attempt_at <= now()
         ORDER BY o.id LIMIT $3 + 1`,
        [subscriptions.map((s) => s.event), subscriptions.map((s) => s.subscriber), batch],
      );
      const rows = due.slice(0, batch);
      const held = new Set(await lease(rows.map((row) => row.id)));
      let done = 0;
      for (const row of rows) {
        if (!held.has(row.id)) continue;
        await deliver(row);
        done += 1;
      }
      return { done, more: due.length > batch };
    },
    async waitingSince() {
      const rows = await db.query<{ since: Date | null }>('SELECT min(created_at) AS since FROM event_outbox WHERE refused_at IS NULL');
      return rows[0]?.since ?? null;
    },
  };

  async function deliver(row: OutboxRow): Promise<void> {
    const problem = isEventName(row.event) ? payloadProblem(row.event, row.payload) : `unknown event ${row.event}`;
    const handler = isEventName(row.event) ? bus.durableHandler(row.event, row.subscriber) : undefined;
    if (problem || !handler) {
      await db.query('UPDATE event_outbox SET refused_at = now(), last_error = $2 WHERE id = $1', [row.id, problem ?? 'no subscriber']);
      return;
    }
    try {
      await db.transaction(async (tx) => {
        // The row is deleted first: its row lock makes a second deliverer (another process that read
        // it before this one leased and released it) wait, and then find it gone and do nothing.
        const taken = await tx.query('DELETE FROM event_outbox WHERE id = $1 RETURNING id', [row.id]);
        if (taken.length === 1) await handler(tx, row.payload);
      });
    } catch (error) {
      await db.query(
        `UPDATE event_outbox SET attempts = attempts + 1, last_error = $2,
           next_attempt_at = now() + least($3::float8 * 2 ^ attempts, $4::float8) * interval '1 millisecond'
         WHERE id = $1`,
        [row.id, (error as Error).message.slice(0, 2_000), retryFirstMs, retryMaxMs],
      );
    }
  }
}
