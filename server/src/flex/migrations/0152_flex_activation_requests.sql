-- Manual activation requests (issue 18, operate): a member's device opted in to a contract that the
-- plan may not control (no automation allowed) is asked, when an order it stands behind is
-- accepted, to move by hand in the ordered ISPs; the member accepts or declines before they begin.
CREATE TABLE flex_activation_requests (
  id uuid NOT NULL,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  -- The FlexOrder's MessageID (an order of ours has an offer; the offer names the devices).
  order_message_id text NOT NULL,
  congestion_point text NOT NULL,
  period date NOT NULL,
  device_id text NOT NULL,
  member_id uuid NOT NULL,
  -- The ordered ISPs (first..last) and when they begin and end: answers close at starts_at.
  first_isp integer NOT NULL CHECK (first_isp >= 1),
  last_isp integer NOT NULL CHECK (last_isp >= first_isp),
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL CHECK (ends_at > starts_at),
  -- What the order asks of the portfolio: less consumption (decrease) or more (increase).
  direction text NOT NULL CHECK (direction IN ('decrease', 'increase')),
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted', 'declined')),
  answered_at timestamptz,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (id, community_id),
  UNIQUE (order_message_id, device_id, community_id)
);
CREATE INDEX flex_activation_requests_member ON flex_activation_requests (member_id, starts_at);
CREATE INDEX flex_activation_requests_community ON flex_activation_requests (community_id, starts_at);
