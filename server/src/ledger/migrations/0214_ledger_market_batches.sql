-- Which of the market's postings the verifiable record holds: one row per `market.movements`
-- entry queued, with the community's posting sequences it covers (first … last). The next batch
-- starts after the highest `last`, so every posting is recorded exactly once, in order, also those
-- entered without an event (the demo's opening top-ups go with the next batch). A wallet
-- movement's proof starts here: the batch that holds its sequence, then the batch's entry.
CREATE TABLE ledger_market_batches (
  community_id uuid NOT NULL,
  first_sequence int4 NOT NULL CHECK (first_sequence >= 1),
  last_sequence int4 NOT NULL,
  subject text NOT NULL,
  PRIMARY KEY (community_id, first_sequence),
  CHECK (last_sequence >= first_sequence)
);
