-- Commands to controllable devices (issue 15): from a decided plan (plan_id) or issued by a
-- person (issued_by, plan_id NULL), delivered over MQTT or HTTP polling and tracked to their end.
-- queued → sent → acknowledged | rejected | expired | superseded. issued_at orders the commands of
-- one device and kind: a newer one supersedes the open older ones.
CREATE TABLE control_commands (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  device_id text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('battery-power', 'ev-charge-power', 'heat-pump-power', 'heat-pump-block', 'appliance-start', 'pv-limit')),
  value integer,
  valid_from timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  issued_at timestamptz NOT NULL,
  plan_id text,
  issued_by uuid,
  state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'acknowledged', 'rejected', 'expired', 'superseded')),
  -- Deliveries so far (MQTT publishes and HTTP polls that returned it) and when the next MQTT retry is due.
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  created_at timestamptz NOT NULL,
  sent_at timestamptz,
  -- When it reached its final state; the device's reason for a rejection; the command that superseded it.
  closed_at timestamptz,
  reason text,
  superseded_by uuid,
  CHECK (expires_at > valid_from),
  CHECK (plan_id IS NULL OR issued_by IS NULL)
);
CREATE INDEX control_commands_open ON control_commands (device_id, kind) WHERE state IN ('queued', 'sent');
CREATE INDEX control_commands_community ON control_commands (community_id, issued_at DESC);
CREATE INDEX control_commands_due ON control_commands (community_id, expires_at) WHERE state IN ('queued', 'sent');
