-- Raw readings exactly as devices reported them, after validation and unit normalisation.
-- One row per device, quantity and instant: a repeated reading is a no-op (idempotent ingest).
CREATE TABLE readings (
  device_id text NOT NULL,
  quantity text NOT NULL,
  ts timestamptz NOT NULL,
  value double precision NOT NULL,
  community_id uuid NOT NULL,
  -- Where the device was installed when the reading arrived; a device moved later keeps its history.
  metering_point_id uuid,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, quantity, ts)
);
CREATE INDEX readings_community_ts_idx ON readings (community_id, ts);
CREATE INDEX readings_metering_point_idx ON readings (metering_point_id, quantity, ts);

-- A meter exchange starts a new register segment: values before and after are never differenced.
CREATE TABLE meter_exchanges (
  device_id text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  ts timestamptz NOT NULL,
  community_id uuid NOT NULL,
  note text NOT NULL DEFAULT '',
  recorded_by uuid REFERENCES users (id) ON DELETE SET NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, ts)
);

-- Per-device ingest state for the API: last seen, counters, last rejection reason.
CREATE TABLE device_state (
  device_id text PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
  community_id uuid NOT NULL,
  last_seen_at timestamptz,
  messages_total bigint NOT NULL DEFAULT 0,
  readings_total bigint NOT NULL DEFAULT 0,
  duplicates_total bigint NOT NULL DEFAULT 0,
  rejected_total bigint NOT NULL DEFAULT 0,
  last_error text,
  last_error_at timestamptz
);
