-- privacy (issue 20, phase 2): consent grants, the access log, erasure requests, retention settings.

-- A member's consent: a recipient may read a scope of the member's energy data for a stated
-- purpose until valid_until; revoked_at ends it at once. Rows are never deleted while the
-- access log may point at them (evidence of consent, Art. 7(1) GDPR).
CREATE TABLE consent_grants (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  grantor uuid NOT NULL,
  recipient_kind text NOT NULL CHECK (recipient_kind IN ('member', 'researcher', 'grid-operator', 'app')),
  recipient_id text NOT NULL,
  recipient_label text NOT NULL,
  metering_points text[] NOT NULL,
  quantities text[] NOT NULL,
  resolution text NOT NULL CHECK (resolution IN ('15m', '1h', '1d', '1mo')),
  period_from timestamptz NOT NULL,
  period_to timestamptz,
  purpose_code text NOT NULL,
  purpose_statement text NOT NULL,
  created_at timestamptz NOT NULL,
  valid_until timestamptz NOT NULL,
  revoked_at timestamptz,
  digest char(64) NOT NULL
);
CREATE INDEX consent_grants_grantor_idx ON consent_grants (grantor, created_at);
CREATE INDEX consent_grants_recipient_idx ON consent_grants (recipient_kind, recipient_id);

-- Who read which member's personal data, when, through which route, and why.
CREATE TABLE access_log (
  id bigserial,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  subject uuid NOT NULL,
  at timestamptz NOT NULL,
  accessor_kind text NOT NULL CHECK (accessor_kind IN ('manager', 'admin', 'recipient', 'export')),
  accessor_id text NOT NULL,
  accessor_label text NOT NULL,
  grant_id uuid,
  purpose text NOT NULL,
  category text NOT NULL,
  metering_points text[] NOT NULL DEFAULT '{}',
  period_from timestamptz,
  period_to timestamptz,
  resolution text,
  route text NOT NULL,
  PRIMARY KEY (community_id, id)
);
CREATE INDEX access_log_subject_idx ON access_log (subject, at DESC);
CREATE INDEX access_log_at_idx ON access_log (community_id, at);

-- A member's erasure (Art. 17): requested, then carried out by the privacy job.
CREATE TABLE erasure_requests (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  member_id uuid NOT NULL,
  requested_by text NOT NULL CHECK (requested_by IN ('member', 'admin')),
  requested_at timestamptz NOT NULL,
  state text NOT NULL CHECK (state IN ('requested', 'done', 'failed')),
  plan jsonb,
  pseudonym text,
  final_deletion_at timestamptz,
  executed_at timestamptz,
  error text
);
CREATE UNIQUE INDEX erasure_requests_open_idx ON erasure_requests (member_id) WHERE state <> 'failed';
CREATE INDEX erasure_requests_community_idx ON erasure_requests (community_id, requested_at DESC);

-- Per community: how long each kind of data is kept (checked by validateRetentionPolicy).
CREATE TABLE retention_policies (
  community_id uuid PRIMARY KEY REFERENCES communities (id) ON DELETE CASCADE,
  raw_readings_days integer NOT NULL,
  intervals_days integer NOT NULL,
  forecasts_days integer NOT NULL,
  access_log_days integer NOT NULL,
  operational_logs_days integer NOT NULL,
  export_files_days integer NOT NULL,
  billing_records_years integer NOT NULL,
  updated_at timestamptz NOT NULL,
  updated_by uuid
);
