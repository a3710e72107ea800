-- The community's fee on a contract's rewards (issue 18, settle): the share of a positive net
-- settlement the community keeps before the rest is shared among the members, in basis points
-- (0–10,000 = 0–100 %), set by managers with the contract's terms. Existing contracts keep none.
ALTER TABLE flex_contracts ADD COLUMN community_fee_bp integer NOT NULL DEFAULT 0 CHECK (community_fee_bp BETWEEN 0 AND 10000);
