-- The verifiable record: one platform-wide append-only Merkle log (RFC 6962), stored as C2SP
-- tlog-tiles. See server/src/ledger/README.md.

-- The log's one signing key (Ed25519, c2sp.org/signed-note), created at first start. The signer
-- key is sealed with the platform's secrets box (like device keys and connector credentials);
-- the verifier key and did:key are public.
CREATE TABLE ledger_keys (
  id text PRIMARY KEY CHECK (id = 'log'),
  origin text NOT NULL,
  signer text NOT NULL,
  verifier_key text NOT NULL,
  did text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The head: the log's size. Every append locks this one row (SELECT … FOR UPDATE), so two
-- writers, in one process or several, append one after the other and never both at index n.
CREATE TABLE ledger_head (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  size bigint NOT NULL CHECK (size >= 0),
  appended_at timestamptz
);
INSERT INTO ledger_head (size) VALUES (0);

-- What waits to be appended: written by the event subscribers in the outbox's transaction,
-- moved into the log in batches by the ledger job. (kind, subject) names the event once.
CREATE TABLE ledger_queue (
  id bigserial PRIMARY KEY,
  community_id uuid NOT NULL,
  kind text NOT NULL,
  subject text NOT NULL,
  body bytea NOT NULL,
  queued_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (kind, subject)
);

-- The log: entry n at seq n (dense from 0), its RFC 8785 bytes. No foreign keys: an entry
-- outlives its community, member and statement.
CREATE TABLE ledger_entries (
  seq bigint PRIMARY KEY CHECK (seq >= 0),
  community_id uuid NOT NULL,
  kind text NOT NULL,
  subject text NOT NULL,
  body bytea NOT NULL,
  appended_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (kind, subject)
);
CREATE INDEX ledger_entries_community_idx ON ledger_entries (community_id, seq);

-- Tiles of height 8: one row per tile, the widest version (a partial tile is a prefix of it).
CREATE TABLE ledger_tiles (
  level smallint NOT NULL CHECK (level BETWEEN 0 AND 63),
  idx bigint NOT NULL CHECK (idx >= 0),
  width smallint NOT NULL CHECK (width BETWEEN 1 AND 256),
  hashes bytea NOT NULL CHECK (length(hashes) = width * 32),
  PRIMARY KEY (level, idx)
);

-- Signed checkpoints (c2sp.org/tlog-checkpoint notes), one per size published.
CREATE TABLE ledger_checkpoints (
  size bigint PRIMARY KEY CHECK (size >= 0),
  note text NOT NULL,
  published_at timestamptz NOT NULL DEFAULT now()
);

-- Per subject (member), the salt of its commitments in entries. Deleting a salt makes the
-- subject's entries unlinkable to them while every proof stays valid (erasure).
CREATE TABLE ledger_salts (
  subject uuid PRIMARY KEY,
  salt bytea NOT NULL CHECK (length(salt) >= 16)
);

-- The last audit: the tree recomputed from the stored entries against every checkpoint.
CREATE TABLE ledger_audits (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  audited_at timestamptz NOT NULL,
  entries bigint NOT NULL,
  checkpoints integer NOT NULL,
  failures integer NOT NULL,
  message text
);

-- Append-only in the database itself: entries and checkpoints are never changed or removed.
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_checkpoints_append_only BEFORE UPDATE OR DELETE ON ledger_checkpoints FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
