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

/** What an erased member's free text and grid numbers become in the entries about them. */
const ERASED_VALUE = JSON.stringify('[erased]');

/** Fields (the last segment of a path) whose values are free text or grid numbers a person may be found by. */
const ERASABLE_FIELDS = ['joinMessage', 'message', 'name', 'label', 'statement', 'description', 'gridConnectionId', 'generationGridConnectionId'] as const;

/**
 * Erasure: in every entry about the members (their subject, or a resource of theirs: the members,
 * the account, their sites), the values of `ERASABLE_FIELDS` become "[erased]" (a value that was
 * null stays null). Who, what, when and which paths changed stay; the trigger lets only this through.
 * Returns how many entries changed.
 */
export async function redactEntriesAbout(tx: Queryable, memberIds: readonly string[], resourceIds: readonly string[]): Promise<number> {
  const rows = await tx.query(
    `WITH about AS (
       SELECT id, diff FROM audit_entries
       WHERE (subject_member_id = ANY($1::uuid[]) OR resource_id = ANY($2::text[]))
         AND EXISTS (SELECT 1 FROM jsonb_array_elements(diff) AS l(line)
                     WHERE regexp_replace(line->>'path', '^.*\\.', '') = ANY($3::text[])
                       AND (COALESCE(line->>'before', 'null') NOT IN ('null', $4) OR COALESCE(line->>'after', 'null') NOT IN ('null', $4)))
     )
     UPDATE audit_entries e SET diff = (
       SELECT jsonb_agg(CASE WHEN regexp_replace(l.line->>'path', '^.*\\.', '') = ANY($3::text[]) THEN
           jsonb_build_object('path', l.line->'path',
             'before', CASE WHEN COALESCE(l.line->>'before', 'null') = 'null' THEN l.line->'before' ELSE to_jsonb($4::text) END,
             'after', CASE WHEN COALESCE(l.line->>'after', 'null') = 'null' THEN l.line->'after' ELSE to_jsonb($4::text) END)
         ELSE l.line END ORDER BY l.n)
       FROM jsonb_array_elements(about.diff) WITH ORDINALITY AS l(line, n))
     FROM about WHERE e.id = about.id RETURNING e.id`,
    [memberIds, resourceIds, ERASABLE_FIELDS, ERASED_VALUE],
  );
  return rows.length;
}
