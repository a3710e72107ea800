-- The settle phase of flexibility (issue 18): members' baselines, the review of each order a DSO
-- settles, and members' rewards.

-- A member's baseline per ISP at a congestion point and Period (Wh, + = consumption): the energy
-- the D-Prognosis assumed for their connections, recorded by the plan phase when it builds the
-- prognosis. Members' contributions to an order are measured against it.
CREATE TABLE flex_member_baselines (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  congestion_point text NOT NULL,
  period date NOT NULL,
  member_id uuid NOT NULL,
  isp integer NOT NULL CHECK (isp >= 1),
  baseline_wh integer NOT NULL,
  PRIMARY KEY (community_id, congestion_point, period, member_id, isp)
);

-- One FlexOrderSettlement of a received FlexSettlement: the DSO's amounts, ours (null when they
-- could not be computed: the reason says why), the disposition sent back, our per-ISP figures.
-- Amounts are exact nano-units of currency.
CREATE TABLE flex_order_settlements (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  settlement_id uuid NOT NULL REFERENCES flex_messages (id) ON DELETE CASCADE,
  order_reference text NOT NULL,
  period date NOT NULL,
  congestion_point text NOT NULL,
  currency text NOT NULL,
  dso_price bigint NOT NULL,
  dso_penalty bigint NOT NULL,
  dso_net bigint NOT NULL,
  our_price bigint,
  our_penalty bigint,
  our_net bigint,
  disposition text NOT NULL CHECK (disposition IN ('Accepted', 'Disputed')),
  dispute_reason text,
  figures jsonb NOT NULL,
  settled_at timestamptz NOT NULL
);
CREATE INDEX flex_order_settlements_community ON flex_order_settlements (community_id, period);

-- A member's share of an accepted order's net settlement (minor units of currency), by measured
-- contribution; the community's part is what remains of the net. What statements show.
CREATE TABLE flex_rewards (
  order_settlement_id uuid NOT NULL REFERENCES flex_order_settlements (id) ON DELETE CASCADE,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  member_id uuid NOT NULL,
  period date NOT NULL,
  currency text NOT NULL,
  contribution_wh bigint NOT NULL CHECK (contribution_wh >= 0),
  amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
  recorded_at timestamptz NOT NULL,
  PRIMARY KEY (order_settlement_id, member_id)
);
CREATE INDEX flex_rewards_member ON flex_rewards (community_id, member_id, period);
