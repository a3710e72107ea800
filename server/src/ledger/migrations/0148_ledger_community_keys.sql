-- Each community's Ed25519 key (did:key), created when the community's first entry is queued:
-- it signs every entry of the community (RFC 8785 bytes of the entry without its signatures).
-- The seed is sealed with the platform's secrets box (like the log's key), the did:key public.
-- No foreign key: the key, like the entries it signed, outlives the community.
CREATE TABLE ledger_community_keys (
  community_id uuid PRIMARY KEY,
  signer text NOT NULL,
  did text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
