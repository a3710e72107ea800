-- market: fewer index entries per settled line and posting (issue 19's stored month). A month of
-- 96 slots × 200 members writes about 900,000 statement lines and as many postings.
-- * market_settlement_lines_member was read by no query (statements sum lines by community and
--   slot range, corrections read a slot's lines: both through the primary key).
-- * Postings are listed per wallet only (the member's wallet page), never per community account:
--   the two indexes keep wallet accounts alone, so a posting enters one of them, not both (every
--   settlement, top-up, payout and correction has exactly one wallet side; a transfer has two).
DROP INDEX market_settlement_lines_member;
DROP INDEX market_postings_debit;
DROP INDEX market_postings_credit;
CREATE INDEX market_postings_wallet_debit ON market_postings (community_id, debit, sequence) WHERE debit LIKE 'wallet:%';
CREATE INDEX market_postings_wallet_credit ON market_postings (community_id, credit, sequence) WHERE credit LIKE 'wallet:%';
