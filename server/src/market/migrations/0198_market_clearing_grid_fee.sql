-- market: the grid fee per kWh in force when a slot was cleared, kept with its clearing, so the
-- depth of a slot without trades is drawn with the fee its bids were matched against (not the fee
-- in force when someone looks). Slots cleared before this migration take the fee their trades
-- carried; one without trades has none (its depth falls back to the community's current fee).
ALTER TABLE market_clearings ADD COLUMN grid_fee int8 CHECK (grid_fee >= 0);
UPDATE market_clearings c SET grid_fee = t.fee
FROM (SELECT community_id, slot_start, max(grid_fee) AS fee FROM market_trades GROUP BY community_id, slot_start) t
WHERE t.community_id = c.community_id AND t.slot_start = c.slot_start;
