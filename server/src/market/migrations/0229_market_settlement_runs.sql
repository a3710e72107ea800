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
  -- The trade of a sale, purchase or grid-fee line, by its position among the slot's market_trades
  -- (its two order ids, ≈ 60 characters each for an agent's, were most of the row); NULL elements for balancing lines.
  trades int4[] NOT NULL,
  energy_wh int8[] NOT NULL,
  prices int8[] NOT NULL,
  -- Exact nano-units: energy × price can exceed int8.
  amounts numeric[] NOT NULL,
  -- One line per element, every array as long as the others, one-dimensional, and no line without its member, kind or figures.
  CHECK (cardinality(member_ids) > 0 AND array_ndims(member_ids) = 1
    AND cardinality(kinds) = cardinality(member_ids) AND cardinality(trades) = cardinality(member_ids)
    AND cardinality(energy_wh) = cardinality(member_ids)
    AND cardinality(prices) = cardinality(member_ids) AND cardinality(amounts) = cardinality(member_ids)),
  CHECK (array_position(member_ids, NULL) IS NULL AND array_position(kinds, NULL) IS NULL AND array_position(energy_wh, NULL) IS NULL
    AND array_position(prices, NULL) IS NULL AND array_position(amounts, NULL) IS NULL),
  PRIMARY KEY (community_id, slot_start, run),
  FOREIGN KEY (community_id, slot_start) REFERENCES market_clearings (community_id, slot_start) ON DELETE CASCADE
);
-- A run's arrays (≈ 300 lines) are stored out of line uncompressed, as the lines were when each was a
-- row: compressing them took ≈ a quarter of the insert's CPU (PGlite, a day's lines).
ALTER TABLE market_settlement_runs ALTER member_ids SET STORAGE EXTERNAL, ALTER kinds SET STORAGE EXTERNAL,
  ALTER trades SET STORAGE EXTERNAL, ALTER energy_wh SET STORAGE EXTERNAL,
  ALTER prices SET STORAGE EXTERNAL, ALTER amounts SET STORAGE EXTERNAL;

-- Existing databases keep their lines: each slot's lines grouped by run, in the order of their positions,
-- each trade line naming its trade by position (the slot's trade of the line's two orders).
INSERT INTO market_settlement_runs (community_id, slot_start, run, member_ids, kinds, trades, energy_wh, prices, amounts)
SELECT l.community_id, l.slot_start, l.run, array_agg(l.member_id ORDER BY l.position), array_agg(l.kind ORDER BY l.position),
  array_agg(t.position ORDER BY l.position), array_agg(l.energy_wh ORDER BY l.position),
  array_agg(l.price ORDER BY l.position), array_agg(l.amount ORDER BY l.position)
FROM market_settlement_lines l
LEFT JOIN market_trades t ON t.community_id = l.community_id AND t.slot_start = l.slot_start
  AND t.buy_order_id = l.buy_order_id AND t.sell_order_id = l.sell_order_id
GROUP BY l.community_id, l.slot_start, l.run;

DROP TABLE market_settlement_lines;
