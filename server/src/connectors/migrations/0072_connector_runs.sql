-- A short log of each instance's recent runs (the store keeps the newest 20): what a manager
-- reads to see why a connector fails.
CREATE TABLE connector_runs (
  id bigserial PRIMARY KEY,
  instance_id uuid NOT NULL REFERENCES connector_instances (id) ON DELETE CASCADE,
  started_at timestamptz NOT NULL,
  duration_ms integer NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('ok', 'partial', 'failed')),
  readings_stored integer NOT NULL DEFAULT 0,
  error_code text,
  error_message text,
  problems jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX connector_runs_instance_idx ON connector_runs (instance_id, id DESC);
