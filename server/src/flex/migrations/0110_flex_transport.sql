-- UFTP transport (issue 18, phase 2): who the community is towards the grid operator, whom it
-- talks to, every message in and out, and the deliveries still to make.

-- The community's own UFTP identity as aggregator: its domain, its Ed25519 signing key (libsodium
-- 64-byte secret, base64, sealed with the platform's secrets box) and the market it trades in.
CREATE TABLE flex_identities (
  community_id uuid PRIMARY KEY REFERENCES communities (id) ON DELETE CASCADE,
  domain text NOT NULL UNIQUE,
  signing_key text NOT NULL,
  public_key text NOT NULL,
  time_zone text NOT NULL,
  isp_duration_minutes integer NOT NULL CHECK (isp_duration_minutes IN (5, 15, 30, 60)),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The address book: participants the community trades with (per community: the AGR it acts for),
-- their endpoint and one or two public keys (two during a key rotation), barred or not, and the
-- congestion points traded at with them.
CREATE TABLE flex_participants (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  domain text NOT NULL,
  role text NOT NULL CHECK (role IN ('DSO', 'CRO', 'AGR')),
  endpoint text NOT NULL,
  public_keys text[] NOT NULL CHECK (cardinality(public_keys) BETWEEN 1 AND 2),
  barred boolean NOT NULL DEFAULT false,
  congestion_points text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  UNIQUE (community_id, domain, role)
);
CREATE INDEX flex_participants_sender ON flex_participants (domain, role);

-- Every UFTP message in ('in') and out ('out'), payload as signed. state: in — accepted | rejected |
-- duplicate (a MessageID seen before); out — queued | sent | failed; then, from what followed,
-- accepted | rejected (its response), revoked | ordered | settled (offers). duplicate_of names the
-- first message with the same sender and MessageID; only those first ones are unique.
CREATE TABLE flex_messages (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  direction text NOT NULL CHECK (direction IN ('in', 'out')),
  type text NOT NULL,
  message_id text NOT NULL,
  conversation_id text NOT NULL,
  sender_domain text NOT NULL,
  sender_role text NOT NULL,
  recipient_domain text NOT NULL,
  payload_xml text NOT NULL,
  fingerprint text NOT NULL,
  state text NOT NULL CHECK (state IN ('accepted', 'rejected', 'duplicate', 'queued', 'sent', 'failed', 'revoked', 'ordered', 'settled')),
  rejection_reason text,
  in_reply_to uuid REFERENCES flex_messages (id) ON DELETE CASCADE,
  duplicate_of uuid REFERENCES flex_messages (id) ON DELETE CASCADE,
  at timestamptz NOT NULL
);
CREATE UNIQUE INDEX flex_messages_first ON flex_messages (community_id, sender_domain, message_id) WHERE duplicate_of IS NULL;
CREATE INDEX flex_messages_list ON flex_messages (community_id, at DESC);
CREATE INDEX flex_messages_conversation ON flex_messages (community_id, conversation_id);

-- Outgoing deliveries: the signed document to POST, where, how often tried, when next, and
-- until when a temporary failure is tried again (at least an hour after it was queued).
CREATE TABLE flex_outbox (
  id uuid PRIMARY KEY,
  message_id uuid NOT NULL REFERENCES flex_messages (id) ON DELETE CASCADE,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  endpoint text NOT NULL,
  signed_xml text NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  retry_until timestamptz NOT NULL,
  last_error text,
  created_at timestamptz NOT NULL,
  closed_at timestamptz
);
CREATE INDEX flex_outbox_due ON flex_outbox (next_attempt_at) WHERE state = 'pending';
