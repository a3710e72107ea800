-- Where each connector instance stands: when it runs next, how its last runs went. One row per
-- instance, written after every run; the scheduler reads the due ones.
CREATE TABLE connector_status (
  instance_id uuid PRIMARY KEY REFERENCES connector_instances (id) ON DELETE CASCADE,
  next_run_at timestamptz NOT NULL DEFAULT now(),
  last_run_at timestamptz,
  last_success_at timestamptz,
  last_outcome text CHECK (last_outcome IN ('ok', 'partial', 'failed')),
  readings_stored bigint NOT NULL DEFAULT 0,
  last_error_code text,
  last_error_message text,
  failures_in_row integer NOT NULL DEFAULT 0
);
CREATE INDEX connector_status_due_idx ON connector_status (next_run_at);
