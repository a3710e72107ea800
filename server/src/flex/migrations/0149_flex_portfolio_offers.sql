-- The plan and validate phases of flexibility (issue 18): the portfolio (congestion points of a
-- DSO and the community's connections behind each), the D-Prognoses sent, and the offers made.

-- A congestion point of a DSO of the address book, from a CRO's AGRPortfolioQueryResponse or
-- entered by a manager (source). prognosis_gate: the local time (HH:MM, the identity's zone) on
-- the day before a Period by which its D-Prognosis must reach the DSO.
CREATE TABLE flex_congestion_points (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  participant_id uuid NOT NULL REFERENCES flex_participants (id) ON DELETE CASCADE,
  entity_address text NOT NULL,
  mutex_offers_supported boolean NOT NULL,
  prognosis_gate text NOT NULL,
  source text NOT NULL CHECK (source IN ('manager', 'cro')),
  updated_at timestamptz NOT NULL,
  UNIQUE (participant_id, entity_address)
);
CREATE INDEX flex_congestion_points_community ON flex_congestion_points (community_id);

-- The connections (EntityAddress, an EAN) behind a congestion point; the community's metering
-- points are matched to them by grid connection id when a phase reads them.
CREATE TABLE flex_congestion_point_connections (
  congestion_point_id uuid NOT NULL REFERENCES flex_congestion_points (id) ON DELETE CASCADE,
  entity_address text NOT NULL,
  PRIMARY KEY (congestion_point_id, entity_address)
);

-- Each D-Prognosis sent: its powers per ISP (W, JSON {"isp": W}) to tell a material change.
CREATE TABLE flex_prognoses (
  message_id uuid PRIMARY KEY,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  participant_id uuid NOT NULL REFERENCES flex_participants (id) ON DELETE CASCADE,
  congestion_point text NOT NULL,
  period date NOT NULL,
  revision integer NOT NULL CHECK (revision >= 1),
  powers jsonb NOT NULL,
  sent_at timestamptz NOT NULL,
  UNIQUE (participant_id, congestion_point, period, revision)
);

-- Each FlexOffer made in answer to a FlexRequest: the contract, the baseline per ISP (W, the plan
-- without the request — what settlement measures delivery against), the devices that take part,
-- and the plan costs with and without the request (exact nano-units).
CREATE TABLE flex_offers (
  message_id uuid PRIMARY KEY,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  contract_id uuid NOT NULL REFERENCES flex_contracts (id),
  request_message_id uuid NOT NULL,
  congestion_point text NOT NULL,
  period date NOT NULL,
  baseline jsonb NOT NULL,
  device_ids text[] NOT NULL,
  plan_cost bigint NOT NULL,
  baseline_cost bigint NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX flex_offers_community ON flex_offers (community_id, created_at);
