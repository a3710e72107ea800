-- market: a payment from one member's wallet to another's (kind `transfer`), e.g. the price of a
-- data offer a member accepted (privacy, issue 20). Same ledger, same rules: Σ of all accounts 0.
ALTER TABLE market_postings DROP CONSTRAINT market_postings_kind_check;
ALTER TABLE market_postings ADD CONSTRAINT market_postings_kind_check
  CHECK (kind IN ('top-up', 'settlement', 'settlement-correction', 'payout', 'dispute-correction', 'transfer'));
