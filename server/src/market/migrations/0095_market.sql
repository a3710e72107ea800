-- The local energy market (issue 19, phase 2). Prices are per kWh in micro-units of the
-- community's currency on the 4-digit grid (int8); amounts are exact nano-units (numeric, no
-- scale: Wh × micro-price); energy is whole Wh.

-- A community takes part in the market once its manager saved these settings.
CREATE TABLE market_settings (
  community_id uuid PRIMARY KEY REFERENCES communities (id) ON DELETE CASCADE,
  mechanism text NOT NULL,
  gate_lead_minutes integer NOT NULL CHECK (gate_lead_minutes BETWEEN 0 AND 1440),
  grid_fee int8 NOT NULL CHECK (grid_fee >= 0),
  price_floor int8 CHECK (price_floor >= 0),
  price_ceiling int8 CHECK (price_ceiling >= 0),
  surplus_price int8 NOT NULL CHECK (surplus_price >= 0),
  shortfall_price int8 NOT NULL CHECK (shortfall_price >= 0),
  updated_at timestamptz NOT NULL,
  CHECK (price_floor IS NULL OR price_ceiling IS NULL OR price_floor <= price_ceiling)
);

-- What a member lets the automatic agent do for them.
CREATE TABLE market_agent_limits (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  member_id uuid NOT NULL,
  enabled boolean NOT NULL,
  min_sell_price int8 CHECK (min_sell_price >= 0),
  max_buy_price int8 CHECK (max_buy_price >= 0),
  sell_share integer NOT NULL CHECK (sell_share BETWEEN 0 AND 1000000),
  buy_share integer NOT NULL CHECK (buy_share BETWEEN 0 AND 1000000),
  -- The member's metering points the agent trades; empty: all of them.
  metering_point_ids uuid[] NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (community_id, member_id)
);

-- Bids and offers per 15-minute delivery slot. An order is never changed: a member withdraws it
-- (withdrawn_at) and places a new one; orders are read at gate closure and cleared as they were.
CREATE TABLE market_orders (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  id text NOT NULL,
  member_id uuid NOT NULL,
  slot_start timestamptz NOT NULL,
  side text NOT NULL CHECK (side IN ('buy', 'sell')),
  energy_wh int8 NOT NULL CHECK (energy_wh > 0 AND energy_wh <= 10000000),
  price int8 NOT NULL CHECK (price >= 0 AND price <= 999999999900 AND price % 100 = 0),
  submitted_at timestamptz NOT NULL,
  origin text NOT NULL CHECK (origin IN ('member', 'agent')),
  withdrawn_at timestamptz,
  PRIMARY KEY (community_id, id)
);
CREATE INDEX market_orders_slot ON market_orders (community_id, slot_start);
CREATE INDEX market_orders_member ON market_orders (community_id, member_id, slot_start);

-- One clearing per community and slot, written once at gate closure (a re-run finds it and stops).
CREATE TABLE market_clearings (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  slot_start timestamptz NOT NULL,
  mechanism text NOT NULL,
  clearing_price int8,
  volume_wh int8 NOT NULL,
  welfare numeric NOT NULL,
  grid_fees numeric NOT NULL,
  orders integer NOT NULL,
  -- Orders that could not enter the book (each with its reason), so one bad order blocks nothing.
  refused jsonb NOT NULL,
  cleared_at timestamptz NOT NULL,
  settled_at timestamptz,
  PRIMARY KEY (community_id, slot_start)
);
CREATE INDEX market_clearings_unsettled ON market_clearings (community_id, slot_start) WHERE settled_at IS NULL;

CREATE TABLE market_trades (
  community_id uuid NOT NULL,
  slot_start timestamptz NOT NULL,
  position integer NOT NULL,
  buy_order_id text NOT NULL,
  sell_order_id text NOT NULL,
  buyer_id uuid NOT NULL,
  seller_id uuid NOT NULL,
  energy_wh int8 NOT NULL CHECK (energy_wh > 0),
  price int8 NOT NULL CHECK (price >= 0),
  grid_fee int8 NOT NULL CHECK (grid_fee >= 0),
  PRIMARY KEY (community_id, slot_start, position),
  FOREIGN KEY (community_id, slot_start) REFERENCES market_clearings (community_id, slot_start) ON DELETE CASCADE
);
CREATE INDEX market_trades_buyer ON market_trades (community_id, buyer_id, slot_start);
CREATE INDEX market_trades_seller ON market_trades (community_id, seller_id, slot_start);

-- The settlement of a slot against the meters: the statement lines, each paid by one posting.
-- Run 0 is the settlement; runs 1, 2, … are corrections after late data (delta lines, appended:
-- the original is never changed), so Σ of a slot's lines is its settlement on the data known now.
CREATE TABLE market_settlement_lines (
  community_id uuid NOT NULL,
  slot_start timestamptz NOT NULL,
  position integer NOT NULL,
  run integer NOT NULL CHECK (run >= 0),
  member_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('sale', 'purchase', 'grid-fee', 'balancing-surplus', 'balancing-shortfall')),
  buy_order_id text,
  sell_order_id text,
  energy_wh int8 NOT NULL,
  price int8 NOT NULL,
  amount numeric NOT NULL,
  PRIMARY KEY (community_id, slot_start, position),
  FOREIGN KEY (community_id, slot_start) REFERENCES market_clearings (community_id, slot_start) ON DELETE CASCADE
);
CREATE INDEX market_settlement_lines_member ON market_settlement_lines (community_id, member_id, slot_start);

-- The wallets' double-entry ledger: append-only postings, each moving a positive amount from one
-- account to another; the balances are their sums, kept in the same transaction, and every
-- transaction that posts checks that the community's balances still add up to zero.
CREATE TABLE market_postings (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  sequence integer NOT NULL CHECK (sequence > 0),
  at timestamptz NOT NULL,
  debit text NOT NULL,
  credit text NOT NULL,
  amount numeric NOT NULL CHECK (amount > 0 AND amount = trunc(amount)),
  kind text NOT NULL CHECK (kind IN ('top-up', 'settlement', 'settlement-correction', 'payout', 'dispute-correction')),
  memo text NOT NULL,
  slot_start timestamptz,
  line text,
  buy_order_id text,
  sell_order_id text,
  external_reference text,
  CHECK (debit <> credit),
  PRIMARY KEY (community_id, sequence)
);
CREATE INDEX market_postings_debit ON market_postings (community_id, debit, sequence);
CREATE INDEX market_postings_credit ON market_postings (community_id, credit, sequence);
CREATE TABLE market_accounts (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  account text NOT NULL,
  balance numeric NOT NULL CHECK (balance = trunc(balance)),
  PRIMARY KEY (community_id, account)
);
