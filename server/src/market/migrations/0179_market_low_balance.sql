-- market (issue 19, balance alerts): a wallet that a posting takes below the community's
-- low-balance threshold (nano units of its currency) makes the market publish
-- market.wallet.low-balance; notifications tells the member. Null: no alerts.
ALTER TABLE market_settings ADD COLUMN low_balance_threshold numeric CHECK (low_balance_threshold > 0 AND low_balance_threshold = trunc(low_balance_threshold));
