-- Connector instances: a community's data sources that are not Gridshare meter readers (see
-- connectors/README.md). The configuration is kept without its secrets; the secret fields
-- (the kind's writeOnly fields, by JSON pointer) are one JSON object sealed with the
-- installation's master key (secrets/), under the place connector_instances.secrets:<id>.
-- Bindings name the device each of the connector's targets writes as: [{target, deviceId}].
CREATE TABLE connector_instances (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  kind text NOT NULL,
  name text NOT NULL,
  config jsonb NOT NULL,
  secrets text,
  bindings jsonb NOT NULL DEFAULT '[]',
  enabled boolean NOT NULL DEFAULT true,
  interval_s integer NOT NULL CHECK (interval_s BETWEEN 10 AND 86400),
  jitter_s integer NOT NULL DEFAULT 0 CHECK (jitter_s >= 0 AND jitter_s <= interval_s),
  timeout_ms integer CHECK (timeout_ms BETWEEN 1000 AND 600000),
  state jsonb,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (community_id, name)
);
CREATE INDEX connector_instances_community_idx ON connector_instances (community_id);
