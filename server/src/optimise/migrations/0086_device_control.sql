-- Members' control settings per device (issue 15, phase 2): whether the community's plan may
-- control it (default no), the limits it keeps (by kind: battery reserve, EV ready-by and minimum
-- charge, heat pump comfort band, appliance window and run), and a manual override until an
-- instant (from the app or the device's own `device.override`). No row: not controllable.
CREATE TABLE optimise_device_control (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  device_id text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  controllable boolean NOT NULL DEFAULT false,
  limits jsonb NOT NULL DEFAULT '{}',
  override_until timestamptz,
  override_source text CHECK (override_source IN ('device', 'app')),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (community_id, device_id)
);
CREATE UNIQUE INDEX optimise_device_control_device ON optimise_device_control (device_id);

-- "Run my washing machine once, done by 18:00": kept until its run is over or the member withdraws it.
-- starts_at is set when a plan sent the start.
CREATE TABLE optimise_appliance_requests (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  device_id text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  earliest_start timestamptz NOT NULL,
  ready_by timestamptz NOT NULL,
  starts_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (ready_by > earliest_start),
  PRIMARY KEY (community_id, id)
);
CREATE UNIQUE INDEX optimise_appliance_requests_id ON optimise_appliance_requests (id);
CREATE INDEX optimise_appliance_requests_device ON optimise_appliance_requests (device_id);
