-- market: a settlement posting pays all of a member's lines of one kind in its transaction (a day's
-- slots, or a correction's one slot), not one line: ≈ 1,000 postings a settled day instead of
-- ≈ 30,000 (issue 19's stored month). It carries what it pays: the first slot (slot_start, as
-- before), the end of the last slot (slot_end) and how many lines (lines); the orders of its trade
-- only when it pays exactly one. Postings entered before have neither new column (each paid one
-- line) and stay as they are: the verifiable record hashes them as it always did.
ALTER TABLE market_postings ADD COLUMN slot_end timestamptz;
ALTER TABLE market_postings ADD COLUMN lines integer CHECK (lines > 0);
ALTER TABLE market_postings ADD CONSTRAINT market_postings_period_check CHECK (slot_end IS NULL OR slot_end > slot_start);
