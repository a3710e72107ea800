-- The audit trail: one row per change a person made (see server/src/audit/README.md). Written only
-- by audit's subscriber to `change.recorded`, in the transaction of the change itself.
CREATE TABLE audit_entries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL,
  -- null: an installation-wide change (the platform's quotas, a platform admin role)
  community_id uuid,
  kind text NOT NULL,
  resource_id text NOT NULL,
  action text NOT NULL,
  actor_user_id uuid,
  actor_role text NOT NULL CHECK (actor_role IN ('admin', 'manager', 'member', 'user', 'system')),
  subject_member_id uuid,
  -- [{path, before, after}], values as JSON text, already masked
  diff jsonb NOT NULL,
  client_address text,
  user_agent text,
  request_id text
);
-- Newest first, per community and for the whole installation; filters by kind and user narrow these.
CREATE INDEX audit_entries_by_community ON audit_entries (community_id, id DESC);
CREATE INDEX audit_entries_by_actor ON audit_entries (actor_user_id, id DESC);

-- A trail that can be edited proves nothing: rows are only ever added.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries FOR EACH ROW EXECUTE FUNCTION audit_append_only();
