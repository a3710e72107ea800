-- What happened to a device's MQTT connections that its managers should know: a second
-- connection with the same client id and a valid token took over the session (a cloned device,
-- or one that reconnected before its old connection timed out), or reconnects were refused
-- because they came too fast (a storm). Written by the embedded broker's connection guard.
CREATE TABLE device_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  device_id text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('session-takeover', 'reconnects-limited')),
  -- The connecting side's address, and for a takeover the address of the connection it replaced.
  address text,
  previous_address text,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX device_events_community_idx ON device_events (community_id, at DESC);
CREATE INDEX device_events_device_idx ON device_events (device_id, at DESC);
