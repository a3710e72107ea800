import type { Queryable } from '../platform/store/db.js';
import type { DeliveryEntry, DeliveryState } from './domain/delivery.js';
import type { Channel, NotificationEvent, Preferences } from './domain/events.js';
import type { Recipient } from './domain/render.js';

/** The SQL of notifications' tables (notifications, notification_preferences, deliveries). */

export interface StoredNotification {
  id: string;
  communityId: string;
  event: NotificationEvent;
  params: Record<string, unknown>;
  link: string | null;
  createdAt: Date;
  readAt: Date | null;
}

interface NotificationRow {
  id: string; community_id: string; event: NotificationEvent; params: Record<string, unknown>; link: string | null; created_at: Date; read_at: Date | null;
}

const toNotification = (r: NotificationRow): StoredNotification => ({
  id: r.id, communityId: r.community_id, event: r.event, params: r.params, link: r.link, createdAt: r.created_at, readAt: r.read_at,
});

/** Adds the notification unless the person has one with this key already (a replayed event); true when added. */
export async function insertNotification(db: Queryable, n: { communityId: string; userId: string; event: NotificationEvent; params: object; link: string | null; dedupeKey: string }): Promise<boolean> {
  const rows = await db.query(
    `INSERT INTO notifications (community_id, user_id, event, params, link, dedupe_key) VALUES ($1, $2, $3, $4::jsonb, $5, $6)
     ON CONFLICT (community_id, user_id, dedupe_key) DO NOTHING RETURNING id`,
    [n.communityId, n.userId, n.event, JSON.stringify(n.params), n.link, n.dedupeKey],
  );
  return rows.length === 1;
}

export async function notificationsOfUser(db: Queryable, userId: string, options: { unreadOnly: boolean; limit: number }): Promise<StoredNotification[]> {
  const rows = await db.query<NotificationRow>(
    `SELECT id, community_id, event, params, link, created_at, read_at FROM notifications
     WHERE user_id = $1 AND ($2::boolean IS FALSE OR read_at IS NULL) ORDER BY created_at DESC, id LIMIT $3`,
    [userId, options.unreadOnly, options.limit],
  );
  return rows.map(toNotification);
}

export async function unreadCount(db: Queryable, userId: string): Promise<number> {
  const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL', [userId]);
  return rows[0]!.n;
}

/** Marks one of the user's notifications read (again: it keeps its first time); false when the user has none with this id. */
export async function markRead(db: Queryable, userId: string, id: string): Promise<boolean> {
  const rows = await db.query(
    'UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE id = $1 AND user_id = $2 RETURNING id', [id, userId]);
  return rows.length === 1;
}

export async function markAllRead(db: Queryable, userId: string): Promise<number> {
  const rows = await db.query('UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL RETURNING id', [userId]);
  return rows.length;
}

export async function preferencesOf(db: Queryable, userId: string): Promise<Preferences> {
  const rows = await db.query<{ event: NotificationEvent; channel: Channel; enabled: boolean }>(
    'SELECT event, channel, enabled FROM notification_preferences WHERE user_id = $1', [userId]);
  const preferences: Partial<Record<NotificationEvent, Partial<Record<Channel, boolean>>>> = {};
  for (const r of rows) preferences[r.event] = { ...preferences[r.event], [r.channel]: r.enabled };
  return preferences;
}

export async function savePreferences(db: Queryable, userId: string, choices: readonly { event: NotificationEvent; channel: Channel; enabled: boolean }[]): Promise<void> {
  if (choices.length === 0) return;
  await db.query(
    `INSERT INTO notification_preferences (user_id, event, channel, enabled)
     SELECT $1, u.e, u.c, u.v FROM unnest($2::text[], $3::text[], $4::boolean[]) AS u(e, c, v)
     ON CONFLICT (user_id, event, channel) DO UPDATE SET enabled = EXCLUDED.enabled`,
    [userId, choices.map((c) => c.event), choices.map((c) => c.channel), choices.map((c) => c.enabled)],
  );
}

export interface StoredDelivery extends DeliveryEntry {
  readonly communityId: string;
  readonly userId: string | null;
  readonly event: NotificationEvent;
  readonly recipientOf: Recipient;
  readonly params: Record<string, unknown>;
  readonly statementId: string | null;
  readonly batch: string | null;
}

interface DeliveryRow {
  id: string; community_id: string; user_id: string | null; event: NotificationEvent; recipient: Recipient; params: Record<string, unknown>;
  statement_id: string | null; batch: string | null; language: string; subject: string; state: DeliveryState; attempts: number;
  queued_at: Date; next_attempt_at: Date | null; sent_at: Date | null; last_response: string | null; message_id: string | null;
}

const DELIVERY_COLUMNS = `id, community_id, user_id, event, recipient, params, statement_id, batch, language, subject, state, attempts,
  queued_at, next_attempt_at, sent_at, last_response, message_id`;

const toDelivery = (r: DeliveryRow): StoredDelivery => ({
  id: r.id, communityId: r.community_id, userId: r.user_id, event: r.event, recipient: r.recipient.email, recipientOf: r.recipient, params: r.params,
  statementId: r.statement_id, batch: r.batch, language: r.language, subject: r.subject, state: r.state, attempts: r.attempts, queuedAtMs: r.queued_at.getTime(),
  ...(r.next_attempt_at ? { nextAttemptAtMs: r.next_attempt_at.getTime() } : {}),
  ...(r.sent_at ? { sentAtMs: r.sent_at.getTime() } : {}),
  ...(r.last_response !== null ? { lastResponse: r.last_response } : {}),
  ...(r.message_id !== null ? { messageId: r.message_id } : {}),
});

export interface NewDelivery {
  communityId: string;
  userId: string | null;
  event: NotificationEvent;
  recipient: Recipient;
  params: object;
  statementId: string | null;
  dedupeKey: string;
  batch: string | null;
  language: string;
  subject: string;
  queuedAtMs: number;
}

/** Queues the delivery unless one with its key exists (a replayed event, a second bulk send); true when queued. */
export async function insertDelivery(db: Queryable, d: NewDelivery): Promise<boolean> {
  const rows = await db.query(
    `INSERT INTO deliveries (community_id, user_id, event, recipient, params, statement_id, dedupe_key, batch, language, subject, state, queued_at, next_attempt_at)
     VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9, $10, 'queued', $11, $11)
     ON CONFLICT (community_id, dedupe_key) DO NOTHING RETURNING id`,
    [d.communityId, d.userId, d.event, JSON.stringify(d.recipient), JSON.stringify(d.params), d.statementId, d.dedupeKey, d.batch, d.language, d.subject, new Date(d.queuedAtMs)],
  );
  return rows.length === 1;
}

/** Ids of deliveries due at `now`, oldest first (at most `limit`). */
export async function dueDeliveryIds(db: Queryable, nowMs: number, limit: number): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `SELECT id FROM deliveries WHERE state IN ('queued', 'retrying') AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2`,
    [new Date(nowMs), limit],
  );
  return rows.map((r) => r.id);
}

export async function deliveryById(db: Queryable, id: string): Promise<StoredDelivery | undefined> {
  const rows = await db.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE id = $1`, [id]);
  return rows[0] && toDelivery(rows[0]);
}

/** Records an attempt's outcome, only if the delivery is still in the state it was read in (else false: someone else got there first). */
export async function saveAttempt(db: Queryable, before: StoredDelivery, after: DeliveryEntry): Promise<boolean> {
  const rows = await db.query(
    `UPDATE deliveries SET state = $3, attempts = $4, next_attempt_at = $5, sent_at = $6, last_response = $7, message_id = $8, subject = $9, language = $10
     WHERE community_id = $1 AND id = $2 AND attempts = $11 AND state = $12 RETURNING id`,
    [before.communityId, before.id, after.state, after.attempts, after.nextAttemptAtMs === undefined ? null : new Date(after.nextAttemptAtMs),
      after.sentAtMs === undefined ? null : new Date(after.sentAtMs), after.lastResponse?.slice(0, 2_000) ?? null, after.messageId ?? null,
      after.subject, after.language, before.attempts, before.state],
  );
  return rows.length === 1;
}

/** A failed delivery queued again (its attempts start over); false unless it had failed. */
export async function requeueFailed(db: Queryable, id: string, nowMs: number): Promise<boolean> {
  const rows = await db.query(
    `UPDATE deliveries SET state = 'queued', attempts = 0, next_attempt_at = $2 WHERE id = $1 AND state = 'failed' RETURNING id`, [id, new Date(nowMs)]);
  return rows.length === 1;
}

export async function deliveriesOfCommunity(db: Queryable, communityId: string, filter: { batch?: string | undefined; state?: DeliveryState | undefined; limit: number }): Promise<StoredDelivery[]> {
  const rows = await db.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE community_id = $1 AND ($2::text IS NULL OR batch = $2) AND ($3::text IS NULL OR state = $3)
     ORDER BY queued_at DESC, id LIMIT $4`,
    [communityId, filter.batch ?? null, filter.state ?? null, filter.limit],
  );
  return rows.map(toDelivery);
}

/** How many deliveries of the community (of one batch, if given) are in each state. */
export async function batchCounts(db: Queryable, communityId: string, batch: string | undefined): Promise<Record<DeliveryState, number>> {
  const rows = await db.query<{ state: DeliveryState; n: number }>(
    'SELECT state, count(*)::int AS n FROM deliveries WHERE community_id = $1 AND ($2::text IS NULL OR batch = $2) GROUP BY state', [communityId, batch ?? null]);
  const counts: Record<DeliveryState, number> = { queued: 0, sent: 0, retrying: 0, failed: 0 };
  for (const r of rows) counts[r.state] = r.n;
  return counts;
}

/** When the oldest delivery still waiting was queued (the sender's lag). */
export async function oldestWaiting(db: Queryable): Promise<Date | null> {
  const rows = await db.query<{ since: Date | null }>("SELECT min(queued_at) AS since FROM deliveries WHERE state IN ('queued', 'retrying')");
  return rows[0]?.since ?? null;
}

/**
 * Of these statements, those a statement email was sent for or is on its way (queued, retrying):
 * the email at closing or a bulk send. A failed one does not count.
 */
export async function statementsEmailed(db: Queryable, statementIds: readonly string[]): Promise<Set<string>> {
  const rows = await db.query<{ statement_id: string }>(
    `SELECT DISTINCT statement_id FROM deliveries WHERE statement_id = ANY($1::uuid[]) AND event = 'statement-ready' AND state <> 'failed'`,
    [[...statementIds]]);
  return new Set(rows.map((r) => r.statement_id));
}
