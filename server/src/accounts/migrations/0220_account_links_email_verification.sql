-- Emailed links of an account (issue 21): password reset and email verification share one table,
-- one open link per account and purpose (a newer link replaces the older one). Only the SHA-256 of
-- the emailed token is kept; the row is deleted when the link is used, which makes it single use.
CREATE TABLE account_links (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose text NOT NULL CHECK (purpose IN ('password-reset', 'email-verification')),
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, purpose)
);
INSERT INTO account_links (user_id, purpose, token_hash, created_at, expires_at)
  SELECT user_id, 'password-reset', token_hash, created_at, expires_at FROM password_resets;
DROP TABLE password_resets;

-- When the account proved it receives mail at its address; null: not yet. Accounts made before
-- verification existed count as verified (from when they were made).
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
UPDATE users SET email_verified_at = created_at;
