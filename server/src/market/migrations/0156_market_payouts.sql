-- Payouts (issue 19): money members take out of their wallets. Once per month the market job asks
-- for a payout of every wallet holding at least the community's threshold (its balance down to the
-- minor unit); nothing moves until a manager confirms it with the bank transfer's reference, and
-- then it is one posting, wallet → community:payouts. A request is confirmed or cancelled once.
ALTER TABLE market_settings ADD COLUMN payout_threshold numeric CHECK (payout_threshold > 0 AND payout_threshold = trunc(payout_threshold));

CREATE TABLE market_payouts (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  member_id uuid NOT NULL,
  -- The month (UTC) of the run that asked for it: one request per member and month.
  period text NOT NULL CHECK (period ~ '^[0-9]{4}-[0-9]{2}$'),
  amount numeric NOT NULL CHECK (amount > 0 AND amount = trunc(amount)),
  requested_at timestamptz NOT NULL,
  state text NOT NULL CHECK (state IN ('requested', 'confirmed', 'cancelled')),
  decided_at timestamptz,
  reference text,
  posting integer,
  PRIMARY KEY (id, community_id),
  FOREIGN KEY (community_id, posting) REFERENCES market_postings (community_id, sequence),
  UNIQUE (community_id, member_id, period),
  CHECK ((state = 'requested') = (decided_at IS NULL) AND (state = 'confirmed') = (posting IS NOT NULL))
);
CREATE INDEX market_payouts_community ON market_payouts (community_id, requested_at);
