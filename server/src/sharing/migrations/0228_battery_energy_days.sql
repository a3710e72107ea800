-- sharing (issue 21, rough edge 3): a community battery's split is stored on a row of its own,
-- one per battery metering point and UTC day, laid out as member_energy_days. Until now its flows
-- were added to the row of the member who holds the battery (the manager, as a rule): the holder's
-- energy view showed the battery's charging as consumption and its discharge as production, and a
-- holder with a home of their own would have found them on their statement. The battery belongs to
-- the community: its rows count in the community's totals and are listed apart, never a member's.
-- The same columns, defaults and CHECKs as member_energy_days (every array 96 slots), keyed by point.
CREATE TABLE battery_energy_days (LIKE member_energy_days INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE battery_energy_days RENAME COLUMN member_id TO metering_point_id;
ALTER TABLE battery_energy_days ADD PRIMARY KEY (community_id, day, metering_point_id);

-- The stored quarter hours of the holders of community batteries are shared again by the job:
-- their rows lose the battery's flows, which move to the battery's own rows.
INSERT INTO sharing_dirty (community_id, start)
SELECT DISTINCT d.community_id, (d.day + (s.slot - 1) * interval '15 minutes') AT TIME ZONE 'UTC'
FROM member_energy_days d
CROSS JOIN LATERAL generate_subscripts(d.quality, 1) AS s(slot)
WHERE d.quality[s.slot] IS NOT NULL
  AND EXISTS (SELECT 1 FROM metering_points p WHERE p.member_id = d.member_id AND p.community_battery)
ON CONFLICT (community_id, start) DO UPDATE SET version = nextval('sharing_dirty_version');
