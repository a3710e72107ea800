-- Every time an invitation is emailed (issue 21): re-sending is limited per invitation and per
-- community per hour, counted here. Each email carries a sign-up link with a token of its own; only
-- its SHA-256 is kept. Signing up through it proves the invited address receives mail (accounts
-- verify the address at once); it does not accept the invitation.
CREATE TABLE invitation_sends (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  invitation_id uuid NOT NULL,
  resend boolean NOT NULL,
  sent_at timestamptz NOT NULL DEFAULT now(),
  signup_token_hash text NOT NULL,
  PRIMARY KEY (community_id, id)
);
CREATE INDEX invitation_sends_invitation_idx ON invitation_sends (invitation_id, sent_at);
CREATE INDEX invitation_sends_resent_idx ON invitation_sends (community_id, sent_at) WHERE resend;
CREATE INDEX invitation_sends_token_idx ON invitation_sends (signup_token_hash);
