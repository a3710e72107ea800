-- market: a slot's settlement lines as one row per run (issue 19's stored month). One row per line
-- cost ≈ 900,000 rows a month (96 slots × 30 days × 200 members), each with its primary-key entry
-- and foreign-key check; a run's lines are only ever written together and read together (a slot's
-- runs for its correction, a run for the verifiable record, a month summed for statements), so they
-- are kept as one row of parallel arrays: ≈ 3,000 rows a month. Element i of every array is line i
-- of the run, in the order `settleSlot` / `correctSettlement` gave them; run 0 is the settlement,
-- 1, 2, … its corrections (delta lines, appended: the original row is never changed).
CREATE TABLE market_settlement_runs (
  community_id uuid NOT NULL,
  slot_start timestamptz NOT NULL,
  run integer NOT NULL CHECK (run >= 0),
  member_ids uuid[] NOT NULL,
  kinds text[] NOT NULL CHECK (kinds <@ ARRAY['sale', 'purchase', 'grid-fee', 'balancing-surplus', 'balancing-shortfall']),
  -- The trade of a sale, purchase or grid-fee line; NULL elements for balancing lines.
  buy_order_ids text[] NOT NULL,
  sell_order_ids text[] NOT NULL,
  energy_wh int8[] NOT NULL,
  prices int8[] NOT NULL,
  -- Exact nano-units: energy × price can exceed int8.
  amounts numeric[] NOT NULL,
  -- One line per element, every array as long as the others, one-dimensional, and no line without its member, kind or figures.
  CHECK (cardinality(member_ids) > 0 AND array_ndims(member_ids) = 1
    AND cardinality(kinds) = cardinality(member_ids) AND cardinality(buy_order_ids) = cardinality(member_ids)
    AND cardinality(sell_order_ids) = cardinality(member_ids) AND cardinality(energy_wh) = cardinality(member_ids)
    AND cardinality(prices) = cardinality(member_ids) AND cardinality(amounts) = cardinality(member_ids)),
  CHECK (array_position(member_ids, NULL) IS NULL AND array_position(kinds, NULL) IS NULL AND array_position(energy_wh, NULL) IS NULL
    AND array_position(prices, NULL) IS NULL AND array_position(amounts, NULL) IS NULL),
  PRIMARY KEY (community_id, slot_start, run),
  FOREIGN KEY (community_id, slot_start) REFERENCES market_clearings (community_id, slot_start) ON DELETE CASCADE
);
-- A run's arrays (≈ 300 lines, ≈ 50 kB with the order ids) are stored out of line uncompressed, as the
-- lines were when each was a row: compressing them took ≈ a quarter of the insert's CPU (PGlite, a day's lines).
ALTER TABLE market_settlement_runs ALTER member_ids SET STORAGE EXTERNAL, ALTER kinds SET STORAGE EXTERNAL,
  ALTER buy_order_ids SET STORAGE EXTERNAL, ALTER sell_order_ids SET STORAGE EXTERNAL, ALTER energy_wh SET STORAGE EXTERNAL,
  ALTER prices SET STORAGE EXTERNAL, ALTER amounts SET STORAGE EXTERNAL;

-- Existing databases keep their lines: each slot's lines grouped by run, in the order of their positions.
INSERT INTO market_settlement_runs (community_id, slot_start, run, member_ids, kinds, buy_order_ids, sell_order_ids, energy_wh, prices, amounts)
SELECT community_id, slot_start, run, array_agg(member_id ORDER BY position), array_agg(kind ORDER BY position),
  array_agg(buy_order_id ORDER BY position), array_agg(sell_order_id ORDER BY position), array_agg(energy_wh ORDER BY position),
  array_agg(price ORDER BY position), array_agg(amount ORDER BY position)
FROM market_settlement_lines GROUP BY community_id, slot_start, run;

DROP TABLE market_settlement_lines;
