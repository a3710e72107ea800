-- sharing (issue 22): member energy stored one row per member and UTC day instead of one per
-- member and quarter hour. Each value column holds the day's 96 quarter hours (slot s, 1-based, is
-- the quarter hour starting (s − 1) × 15 min after 00:00 UTC); a NULL slot is a quarter hour
-- without a stored split (not yet shared, or the member took no part then). The sharing job wrote
-- and indexed 96 rows with a uuid and a timestamp each per member and day; now one, and a
-- recomputation that changes nothing writes nothing (sharing/README.md, "Stored member energy").
--
-- Wh per quarter hour fit int4 (the allocation engine works in Int32: 2^31 − 1 Wh is 8.6 GW);
-- sums are taken as int8. quality: 0 measured, 1 estimated, 2 missing. import_wh / export_wh are
-- not kept: nothing read them (what is billed is allocated_from_community and from_grid).
--
-- The per-quarter balances (consumption = self + community + grid, production = self +
-- to_community + to_grid) were CHECKs on the old rows; the split computes consumption and
-- production as those sums (domain/community-split.ts, finish) and the domain property test
-- test/sharing/member-energy-days.test.ts holds them, so no CHECK unnests 96 slots per written row.
CREATE TABLE member_energy_days (
  community_id uuid NOT NULL,
  day date NOT NULL,
  member_id uuid NOT NULL,
  consumption_wh int4[] NOT NULL,
  self_consumed_wh int4[] NOT NULL,
  from_community_wh int4[] NOT NULL,
  from_grid_wh int4[] NOT NULL,
  production_wh int4[] NOT NULL,
  to_community_wh int4[] NOT NULL,
  to_grid_wh int4[] NOT NULL,
  allocated_from_community_wh int4[] NOT NULL,
  community_grid_origin_wh int4[] NOT NULL,
  quality int2[] NOT NULL,
  provisional bool[] NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (community_id, day, member_id),
  CHECK (cardinality(quality) = 96 AND cardinality(provisional) = 96 AND cardinality(consumption_wh) = 96
    AND cardinality(self_consumed_wh) = 96 AND cardinality(from_community_wh) = 96 AND cardinality(from_grid_wh) = 96
    AND cardinality(production_wh) = 96 AND cardinality(to_community_wh) = 96 AND cardinality(to_grid_wh) = 96
    AND cardinality(allocated_from_community_wh) = 96 AND cardinality(community_grid_origin_wh) = 96)
);
-- A member's energy (its energy view, settlement, privacy export) is asked for by member.
CREATE INDEX member_energy_days_member_idx ON member_energy_days (member_id, day);

-- The stored quarter hours move over, each into its day's slot.
WITH quarters AS (
  SELECT community_id, member_id, (start AT TIME ZONE 'UTC')::date AS day,
    (extract(epoch FROM start)::int8 / 900 % 96)::int4 + 1 AS slot,
    consumption_wh, self_consumed_wh, from_community_wh, from_grid_wh, production_wh, to_community_wh, to_grid_wh,
    allocated_from_community_wh, community_grid_origin_wh, quality, provisional, computed_at
  FROM member_energy
), days AS (
  SELECT community_id, day, member_id, max(computed_at) AS computed_at FROM quarters GROUP BY community_id, day, member_id
)
INSERT INTO member_energy_days (community_id, day, member_id, consumption_wh, self_consumed_wh, from_community_wh, from_grid_wh,
  production_wh, to_community_wh, to_grid_wh, allocated_from_community_wh, community_grid_origin_wh, quality, provisional, computed_at)
SELECT d.community_id, d.day, d.member_id,
  array_agg(q.consumption_wh::int4 ORDER BY s.slot), array_agg(q.self_consumed_wh::int4 ORDER BY s.slot),
  array_agg(q.from_community_wh::int4 ORDER BY s.slot), array_agg(q.from_grid_wh::int4 ORDER BY s.slot),
  array_agg(q.production_wh::int4 ORDER BY s.slot), array_agg(q.to_community_wh::int4 ORDER BY s.slot),
  array_agg(q.to_grid_wh::int4 ORDER BY s.slot), array_agg(q.allocated_from_community_wh::int4 ORDER BY s.slot),
  array_agg(q.community_grid_origin_wh::int4 ORDER BY s.slot),
  array_agg((CASE q.quality WHEN 'measured' THEN 0 WHEN 'estimated' THEN 1 WHEN 'missing' THEN 2 END)::int2 ORDER BY s.slot),
  array_agg(q.provisional ORDER BY s.slot), min(d.computed_at)
FROM days d CROSS JOIN generate_series(1, 96) AS s(slot)
LEFT JOIN quarters q ON q.community_id = d.community_id AND q.member_id = d.member_id AND q.day = d.day AND q.slot = s.slot
GROUP BY d.community_id, d.day, d.member_id;

DROP TABLE member_energy;
