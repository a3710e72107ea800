-- Limits on what one account can create (quotas/README.md). The installation's defaults apply
-- unless a platform admin set a value here for everyone (quota_limits) or raised or lowered one
-- limit for one user or one community (the grants).
CREATE TABLE quota_limits (
  name text PRIMARY KEY CHECK (name IN ('communitiesPerUser', 'devicesPerCommunity', 'batchesPerHour')),
  value integer NOT NULL CHECK (value >= 0),
  updated_by uuid REFERENCES users (id) ON DELETE SET NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_quota_grants (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (name IN ('communitiesPerUser', 'batchesPerHour')),
  value integer NOT NULL CHECK (value >= 0),
  updated_by uuid REFERENCES users (id) ON DELETE SET NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, name)
);

CREATE TABLE community_quota_grants (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (name IN ('devicesPerCommunity')),
  value integer NOT NULL CHECK (value >= 0),
  updated_by uuid REFERENCES users (id) ON DELETE SET NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (community_id, name)
);
