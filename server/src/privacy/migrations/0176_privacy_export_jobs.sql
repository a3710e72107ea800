-- privacy (issue 20, phase 4): large exports as a background job with progress. A request is a
-- row (queued); the privacy-exports job leases it (job_leases, unit export:<id>), writes the file
-- under the artefacts folder and counts its units of work as it goes; a job whose process died
-- is still queued or running once its lease runs out and is done again from the start. The file
-- is deleted when expires_at passes (the community's retention of export files), and with the
-- member when they are erased.
CREATE TABLE privacy_export_jobs (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  export text NOT NULL CHECK (export IN ('member', 'regulator-intervals')),
  -- Whose data (a member's export); null for a manager's export of the community.
  member_id uuid,
  -- The account that asked, and in which role (its name is read when the access log is written).
  requested_by uuid NOT NULL,
  requester_kind text NOT NULL CHECK (requester_kind IN ('member', 'manager', 'admin')),
  language text NOT NULL CHECK (language IN ('en', 'de')),
  period_from timestamptz,
  period_to timestamptz,
  state text NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
  items_done integer NOT NULL DEFAULT 0,
  items_total integer,
  requested_at timestamptz NOT NULL,
  started_at timestamptz,
  finished_at timestamptz,
  expires_at timestamptz,
  file_name text,
  bytes bigint,
  error text,
  PRIMARY KEY (community_id, id),
  CHECK ((export = 'member') = (member_id IS NOT NULL))
);
-- One export waiting or running per member, and one manager export per community.
CREATE UNIQUE INDEX privacy_export_jobs_active_idx ON privacy_export_jobs (community_id, export, coalesce(member_id, '00000000-0000-0000-0000-000000000000'))
  WHERE state IN ('queued', 'running');
CREATE INDEX privacy_export_jobs_id_idx ON privacy_export_jobs (id);
CREATE INDEX privacy_export_jobs_member_idx ON privacy_export_jobs (member_id, requested_at DESC) WHERE member_id IS NOT NULL;
