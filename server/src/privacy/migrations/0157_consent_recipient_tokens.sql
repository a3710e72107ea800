-- privacy (issue 20, phase 3): a recipient that is not a member (a researcher, the grid operator,
-- an app) reads through its grant with a token of its own. Only the SHA-256 of the token is kept;
-- the token is shown once, when the grant is made. One token per grant: it opens that grant alone.
CREATE TABLE consent_recipient_tokens (
  grant_id uuid PRIMARY KEY REFERENCES consent_grants (id) ON DELETE CASCADE,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  token_sha256 char(64) NOT NULL UNIQUE,
  issued_at timestamptz NOT NULL
);
