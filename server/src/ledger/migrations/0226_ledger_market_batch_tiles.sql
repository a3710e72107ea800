-- A wallet movement's proof in O(log n) reads instead of rebuilding its batch (≈ 30,000 records a
-- day, ≈ 1 CPU-s per proof): each batch's Merkle tree kept as height-8 tiles of its records' leaf
-- hashes (the log's own tile layout; ≈ 32 bytes a posting), and the wallet commitments the batch
-- names — no member ids — so a record is rebuilt after its member's salt was erased: the commitment
-- whose record hashes to the stored leaf is the one logged. Batches recorded before this have
-- neither (wallets null): their proofs rebuild the batch as before.
ALTER TABLE ledger_market_batches ADD COLUMN wallets text[];

CREATE TABLE ledger_market_batch_tiles (
  community_id uuid NOT NULL,
  first_sequence int4 NOT NULL,
  level int2 NOT NULL CHECK (level >= 0),
  idx int4 NOT NULL CHECK (idx >= 0),
  hashes bytea NOT NULL,
  PRIMARY KEY (community_id, first_sequence, level, idx),
  FOREIGN KEY (community_id, first_sequence) REFERENCES ledger_market_batches (community_id, first_sequence)
);
