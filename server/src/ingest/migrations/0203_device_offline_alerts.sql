-- Devices whose member was told they are offline (issue 21, notifications): the outage is known by
-- the device's last message (`last_seen_at` as it was when the alert went out). A device that sends
-- again and falls silent later has a newer last message: a new outage, told again; the same outage
-- is told once (the row and the event commit together).
CREATE TABLE device_offline_alerts (
  device_id text NOT NULL,
  community_id uuid NOT NULL,
  last_seen_at timestamptz NOT NULL,
  alerted_at timestamptz NOT NULL,
  PRIMARY KEY (device_id, community_id)
);
