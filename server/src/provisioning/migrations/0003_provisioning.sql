-- Every device id ever issued, so an id is never handed out twice, even after deletion.
CREATE TABLE device_ids_issued (
  id text PRIMARY KEY,
  issued_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO device_ids_issued (id) SELECT id FROM devices;

CREATE TABLE device_batches (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  kind text NOT NULL,
  size integer NOT NULL CHECK (size > 0),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'rolled-back')),
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  rolled_back_at timestamptz
);
CREATE INDEX device_batches_community_idx ON device_batches (community_id);

ALTER TABLE devices ADD COLUMN batch_id uuid REFERENCES device_batches (id) ON DELETE SET NULL;
ALTER TABLE devices ADD COLUMN claimed_at timestamptz;
CREATE INDEX devices_batch_idx ON devices (batch_id);

-- Symmetric device keys (base64, 256 bit). They must be readable to verify HMAC signatures,
-- as in any SAS scheme; both keys are valid at once so one can be rotated while the other works.
CREATE TABLE device_credentials (
  device_id text PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
  community_id uuid NOT NULL,
  primary_key text NOT NULL,
  secondary_key text NOT NULL,
  primary_rotated_at timestamptz NOT NULL DEFAULT now(),
  secondary_rotated_at timestamptz NOT NULL DEFAULT now()
);

-- One-time claim codes printed as QR codes; only a hash is stored.
CREATE TABLE claim_codes (
  code_hash text PRIMARY KEY,
  device_id text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  community_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  used_at timestamptz,
  used_by uuid REFERENCES members (id) ON DELETE SET NULL
);
CREATE INDEX claim_codes_device_idx ON claim_codes (device_id);
