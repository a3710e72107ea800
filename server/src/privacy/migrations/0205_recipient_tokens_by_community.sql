-- privacy (issue 22): recipient tokens keyed by community, so the table distributes by community_id
-- like the grants it belongs to. A grant has one token row: (grant_id, community_id) is the key.
-- The token's hash stays unique within its community; a token is 32 random bytes, so two grants
-- never share a hash, and a recipient's token is still found by its hash alone (the unique key's first column).
ALTER TABLE consent_recipient_tokens DROP CONSTRAINT consent_recipient_tokens_pkey, ADD PRIMARY KEY (grant_id, community_id);
ALTER TABLE consent_recipient_tokens DROP CONSTRAINT consent_recipient_tokens_token_sha256_key,
  ADD CONSTRAINT consent_recipient_tokens_token_sha256_key UNIQUE (token_sha256, community_id);
