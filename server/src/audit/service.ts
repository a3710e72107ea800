import { stringify } from 'csv-stringify/sync';
import type { Queryable } from '../platform/store/db.js';
import type { EventSubscriber } from '../platform/events/index.js';
import { BadRequestError } from '../kernel/errors.js';
import { entryRows, insertEntry, type EntryRow, type TrailFilter } from './store.js';

/** The trail is written by one subscriber, in the transaction of each change. */
export function subscribeAudit(events: EventSubscriber): void {
  events.inTransaction('change.recorded', insertEntry);
}

/** A query of the trail as the routes read it from the query string. */
export interface TrailQuery {
  communityId?: string | undefined;
  kind?: EntryRow['kind'] | undefined;
  userId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  before?: string | undefined;
}

export interface TrailEntry {
  id: string;
  at: string;
  communityId: string | null;
  kind: EntryRow['kind'];
  resourceId: string;
  action: string;
  actor: { userId: string | null; role: EntryRow['actor_role'] };
  subjectMemberId: string | null;
  diff: EntryRow['diff'];
  origin: { clientAddress: string | null; userAgent: string | null; requestId: string | null };
}

function filterOf(query: TrailQuery, limit: number): TrailFilter {
  const fromMs = query.from === undefined ? undefined : Date.parse(query.from);
  const toMs = query.to === undefined ? undefined : Date.parse(query.to);
  if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) throw new BadRequestError('from must lie before to', 'querystring/from');
  return { communityId: query.communityId, kind: query.kind, actorUserId: query.userId, fromMs, toMs, beforeId: query.before, limit };
}

const entryOf = (row: EntryRow): TrailEntry => ({
  id: row.id,
  at: row.at.toISOString(),
  communityId: row.community_id,
  kind: row.kind,
  resourceId: row.resource_id,
  action: row.action,
  actor: { userId: row.actor_user_id, role: row.actor_role },
  subjectMemberId: row.subject_member_id,
  diff: row.diff,
  origin: { clientAddress: row.client_address, userAgent: row.user_agent, requestId: row.request_id },
});

/** One page, newest first; `next` is the cursor for the older entries (null: there are none). */
export async function trailPage(db: Queryable, query: TrailQuery, limit: number): Promise<{ entries: TrailEntry[]; next: string | null }> {
  const rows = await entryRows(db, filterOf(query, limit + 1));
  const entries = rows.slice(0, limit).map(entryOf);
  return { entries, next: rows.length > limit ? entries[entries.length - 1]!.id : null };
}

export const CSV_COLUMNS = ['id', 'at', 'community_id', 'kind', 'resource_id', 'action', 'actor_user_id', 'actor_role', 'subject_member_id',
  'path', 'before', 'after', 'client_address', 'user_agent', 'request_id'] as const;

/**
 * The trail as CSV, newest first, one line per changed field (an entry's other columns repeat), so
 * a spreadsheet filters by field as easily as by person. At most `limit` entries.
 */
export async function trailCsv(db: Queryable, query: TrailQuery, limit: number): Promise<string> {
  const rows = await entryRows(db, filterOf(query, limit));
  const lines = rows.flatMap((row) => row.diff.map((line) => [
    row.id, row.at.toISOString(), row.community_id ?? '', row.kind, row.resource_id, row.action, row.actor_user_id ?? '', row.actor_role,
    row.subject_member_id ?? '', line.path, line.before ?? '', line.after ?? '', row.client_address ?? '', row.user_agent ?? '', row.request_id ?? '',
  ]));
  return stringify(lines, { header: true, columns: [...CSV_COLUMNS] });
}
