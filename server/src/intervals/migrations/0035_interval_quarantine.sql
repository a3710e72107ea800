-- Quarter hours whose energy is beyond what the metering point's connection allows (its
-- connection capacity × 15 minutes): not plausible, so the interval is stored missing (never
-- shared as measured) and the finding is kept here for the manager, with the devices and the
-- readings that gave it. Recomputing the quarter hour replaces its findings.
CREATE TABLE interval_quarantine (
  metering_point_id uuid NOT NULL REFERENCES metering_points (id) ON DELETE CASCADE,
  start timestamptz NOT NULL,
  series text NOT NULL CHECK (series IN ('import', 'export', 'pv', 'batteryCharge', 'batteryDischarge')),
  community_id uuid NOT NULL,
  -- As computed, which may be absurd (and beyond bigint).
  energy_wh double precision NOT NULL,
  limit_wh double precision NOT NULL,
  device_ids text[] NOT NULL,
  readings jsonb NOT NULL,
  detected_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (metering_point_id, start, series)
);
CREATE INDEX interval_quarantine_community_idx ON interval_quarantine (community_id, start);
