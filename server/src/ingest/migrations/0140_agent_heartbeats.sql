-- The last heartbeat of each device that runs `gridshare agent` (devices/{id}/heartbeat): what a
-- manager needs to tell a dead reader from a dead meter, a loose cable or a blocked uplink.
CREATE TABLE agent_heartbeats (
  device_id text PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
  received_at timestamptz NOT NULL,
  version text NOT NULL,
  uptime_seconds bigint NOT NULL,
  queue_messages bigint NOT NULL,
  queue_readings bigint NOT NULL,
  last_frame_at timestamptz,
  frames_per_minute integer NOT NULL,
  checksum_errors bigint NOT NULL,
  transport text NOT NULL,
  control_mode text
);
