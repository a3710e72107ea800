-- Where each connector instance stands: when it runs next, how its last runs went. One row per
-- instance, written after every run; the scheduler reads the due ones. A process running an
-- instance holds it until claimed_until (its timeout and a margin), so no other process starts it
-- meanwhile, even after the job's pass (and its lease) ended; a crashed run's claim runs out.
CREATE TABLE connector_status (
  instance_id uuid PRIMARY KEY REFERENCES connector_instances (id) ON DELETE CASCADE,
  next_run_at timestamptz NOT NULL DEFAULT now(),
  claimed_until timestamptz,
  last_run_at timestamptz,
  last_success_at timestamptz,
  last_outcome text CHECK (last_outcome IN ('ok', 'partial', 'failed')),
  readings_stored bigint NOT NULL DEFAULT 0,
  last_error_code text,
  last_error_message text,
  failures_in_row integer NOT NULL DEFAULT 0
);
CREATE INDEX connector_status_due_idx ON connector_status (next_run_at);
