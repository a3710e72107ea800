-- privacy (issue 20, phase 5): data offers (the eCommunity idea). A member offers a scope of their
-- own energy data at a price (0: free); whoever accepts gets a consent grant on exactly that scope
-- (consent_grants.offer_id), paid — when priced — by one transfer between the community's wallets
-- (the market's ledger; the posting's sequence is kept on the grant).
CREATE TABLE data_offers (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  grantor uuid NOT NULL,
  metering_points text[] NOT NULL,
  quantities text[] NOT NULL,
  resolution text NOT NULL CHECK (resolution IN ('15m', '1h', '1d', '1mo')),
  period_from timestamptz NOT NULL,
  period_to timestamptz,
  description text NOT NULL,
  audience text NOT NULL CHECK (audience IN ('members', 'anyone')),
  price_minor bigint NOT NULL CHECK (price_minor >= 0),
  currency char(3) NOT NULL,
  grant_validity_days integer NOT NULL CHECK (grant_validity_days > 0),
  published_at timestamptz NOT NULL,
  open_until timestamptz NOT NULL,
  withdrawn_at timestamptz,
  PRIMARY KEY (community_id, id),
  -- Wallets are the community's: only its members can pay.
  CHECK (price_minor = 0 OR audience = 'members')
);
CREATE INDEX data_offers_grantor_idx ON data_offers (grantor, published_at DESC);
CREATE INDEX data_offers_open_idx ON data_offers (community_id, open_until) WHERE withdrawn_at IS NULL;

-- A grant made from an offer: which, and how it was paid (all null for a direct grant or a free offer's payment).
ALTER TABLE consent_grants
  ADD COLUMN offer_id uuid,
  ADD COLUMN payment_posting integer,
  ADD COLUMN payment_minor bigint,
  ADD COLUMN payment_currency char(3),
  ADD CONSTRAINT consent_grants_offer_fkey FOREIGN KEY (community_id, offer_id) REFERENCES data_offers (community_id, id) ON DELETE CASCADE,
  ADD CONSTRAINT consent_grants_payment_check CHECK (
    (payment_posting IS NULL AND payment_minor IS NULL AND payment_currency IS NULL)
    OR (offer_id IS NOT NULL AND payment_posting IS NOT NULL AND payment_minor > 0 AND payment_currency IS NOT NULL));
CREATE INDEX consent_grants_offer_idx ON consent_grants (offer_id) WHERE offer_id IS NOT NULL;
