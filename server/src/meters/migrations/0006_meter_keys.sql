-- Keys of the meter behind a reader (DLMS/Smarty GUEK and GAK), used to decrypt its frames.
-- They belong to the grid operator's meter, not to Gridshare's device identity.
CREATE TABLE meter_keys (
  device_id text PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
  community_id uuid NOT NULL,
  encryption_key text NOT NULL CHECK (encryption_key ~ '^[0-9A-F]{32}$'),
  authentication_key text CHECK (authentication_key ~ '^[0-9A-F]{32}$'),
  updated_at timestamptz NOT NULL DEFAULT now()
);
