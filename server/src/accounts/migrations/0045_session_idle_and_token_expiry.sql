-- A session ends after an idle period as well as at its absolute expiry; the idle period in force
-- when it was opened is kept with it. Sessions open before this migration count as seen now.
ALTER TABLE sessions ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE sessions ADD COLUMN idle_timeout interval NOT NULL DEFAULT interval '14 days';

-- API tokens may expire; NULL keeps the token until it is revoked.
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
