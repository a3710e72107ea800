-- sharing (issue 21, rough edge 3): a community battery's split is stored on a row of its own,
-- one per battery metering point and UTC day, laid out as member_energy_days. Until now its flows
-- were added to the row of the member who holds the battery (the manager, as a rule): the holder's
-- energy view showed the battery's charging as consumption and its discharge as production, and a
-- holder with a home of their own would have found them on their statement. The battery belongs to
-- the community: its rows count in the community's totals and are listed apart, never a member's.
CREATE TABLE battery_energy_days (
  community_id uuid NOT NULL,
  day date NOT NULL,
  metering_point_id uuid NOT NULL,
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
  PRIMARY KEY (community_id, day, metering_point_id),
  CHECK (cardinality(quality) = 96 AND cardinality(provisional) = 96 AND cardinality(consumption_wh) = 96
    AND cardinality(self_consumed_wh) = 96 AND cardinality(from_community_wh) = 96 AND cardinality(from_grid_wh) = 96
    AND cardinality(production_wh) = 96 AND cardinality(to_community_wh) = 96 AND cardinality(to_grid_wh) = 96
    AND cardinality(allocated_from_community_wh) = 96 AND cardinality(community_grid_origin_wh) = 96)
);

-- The stored quarter hours of the holders of community batteries are shared again by the job:
-- their rows lose the battery's flows, which move to the battery's own rows.
INSERT INTO sharing_dirty (community_id, start)
SELECT DISTINCT d.community_id, (d.day + (s.slot - 1) * interval '15 minutes') AT TIME ZONE 'UTC'
FROM member_energy_days d
CROSS JOIN LATERAL generate_subscripts(d.quality, 1) AS s(slot)
WHERE d.quality[s.slot] IS NOT NULL
  AND EXISTS (SELECT 1 FROM metering_points p WHERE p.member_id = d.member_id AND p.community_battery)
ON CONFLICT (community_id, start) DO UPDATE SET version = nextval('sharing_dirty_version');
