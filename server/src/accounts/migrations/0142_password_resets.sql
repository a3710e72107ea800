-- Password reset links (issue 21). One open link per account: a newer request replaces the row,
-- so an older link stops working. Only the SHA-256 of the emailed token is kept; the row is
-- deleted when the link is used, which makes it single use.
CREATE TABLE password_resets (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
