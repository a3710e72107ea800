-- A manager invites a person by email instead of adding an account without its owner's consent.
-- The person sees the invitation once logged in with that email (now, or after signing up with
-- it later) and accepts or declines it. Nothing here is tied to an account, so creating one
-- tells the manager nothing about whether the email has an account.
CREATE TABLE invitations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  email text NOT NULL,
  role text NOT NULL CHECK (role IN ('member', 'manager')),
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted', 'declined', 'revoked')),
  invited_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  decided_at timestamptz
);
-- One open invitation per person and community; a repeated invitation updates it.
CREATE UNIQUE INDEX invitations_pending_key ON invitations (community_id, lower(email)) WHERE state = 'pending';
CREATE INDEX invitations_email_idx ON invitations (lower(email)) WHERE state = 'pending';
