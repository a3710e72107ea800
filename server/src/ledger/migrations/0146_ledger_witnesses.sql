-- Witnesses the operator asks to cosign the log's checkpoints (c2sp.org/tlog-witness), and the
-- cosignatures they gave: served with the checkpoint they sign (c2sp.org/tlog-cosignature).
CREATE TABLE ledger_witnesses (
  name text PRIMARY KEY,
  verifier_key text NOT NULL,
  -- The witness's submission prefix: add-checkpoint is POSTed to <url>/add-checkpoint.
  url text NOT NULL,
  -- The size of the latest checkpoint it cosigned (the old size of the next request).
  cosigned_size bigint NOT NULL DEFAULT 0 CHECK (cosigned_size >= 0),
  last_attempt_at timestamptz,
  last_error text,
  added_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ledger_cosignatures (
  size bigint NOT NULL REFERENCES ledger_checkpoints (size),
  witness text NOT NULL,
  -- The note signature line(s) as the witness sent them, each ending in a newline.
  lines text NOT NULL,
  signed_at timestamptz NOT NULL,
  PRIMARY KEY (size, witness)
);
