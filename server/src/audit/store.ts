import type { Queryable } from '../platform/store/db.js';
import type { EventPayload } from '../kernel/events.js';

/** The only SQL on audit's table, audit_entries. */

export type RecordedChange = EventPayload<'change.recorded'>;

export async function insertEntry(tx: Queryable, change: RecordedChange): Promise<void> {
  await tx.query(
    `INSERT INTO audit_entries (at, community_id, kind, resource_id, action, actor_user_id, actor_role, subject_member_id, diff, client_address, user_agent, request_id)
     VALUES (to_timestamp($1::float8 / 1000), $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12)`,
    [change.atMs, change.communityId, change.kind, change.resourceId, change.action, change.actorUserId, change.actorRole,
      change.subjectMemberId, JSON.stringify(change.diff), change.clientAddress, change.userAgent, change.requestId],
  );
}

export interface TrailFilter {
  /** One community's trail; undefined: the whole installation's (admins). */
  communityId?: string | undefined;
  kind?: RecordedChange['kind'] | undefined;
  actorUserId?: string | undefined;
  fromMs?: number | undefined;
  toMs?: number | undefined;
  /** Entries older than this one (the cursor of the page before). */
  beforeId?: string | undefined;
  limit: number;
}

export interface EntryRow {
  id: string;
  at: Date;
  community_id: string | null;
  kind: RecordedChange['kind'];
  resource_id: string;
  action: string;
  actor_user_id: string | null;
  actor_role: RecordedChange['actorRole'];
  subject_member_id: string | null;
  diff: { path: string; before: string | null; after: string | null }[];
  client_address: string | null;
  user_agent: string | null;
  request_id: string | null;
}

/** Entries newest first, `limit` of them at most. */
export async function entryRows(db: Queryable, filter: TrailFilter): Promise<EntryRow[]> {
  return db.query<EntryRow>(
    `SELECT id::text AS id, at, community_id, kind, resource_id, action, actor_user_id, actor_role, subject_member_id, diff,
            client_address, user_agent, request_id
     FROM audit_entries
     WHERE ($1::uuid IS NULL OR community_id = $1)
       AND ($2::text IS NULL OR kind = $2)
       AND ($3::uuid IS NULL OR actor_user_id = $3)
       AND ($4::float8 IS NULL OR at >= to_timestamp($4::float8 / 1000))
       AND ($5::float8 IS NULL OR at < to_timestamp($5::float8 / 1000))
       AND ($6::bigint IS NULL OR audit_entries.id < $6::bigint)
     ORDER BY audit_entries.id DESC
     LIMIT $7`,
    [filter.communityId ?? null, filter.kind ?? null, filter.actorUserId ?? null, filter.fromMs ?? null, filter.toMs ?? null, filter.beforeId ?? null, filter.limit],
  );
}
