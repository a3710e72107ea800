-- Distribution by community (issue 22): the marks of quarter hours to recompute carry their
-- community and are keyed by it, like every other per-community table. Marks of metering points
-- that no longer exist have nothing to compute (the job drops them too) and go. The point and
-- start stay the first columns of the key, so every lookup by point keeps its index (as 0173).
ALTER TABLE interval_dirty ADD COLUMN community_id uuid;
UPDATE interval_dirty d SET community_id = m.community_id FROM metering_points m WHERE m.id = d.metering_point_id;
DELETE FROM interval_dirty WHERE community_id IS NULL;
ALTER TABLE interval_dirty ALTER COLUMN community_id SET NOT NULL;
ALTER TABLE interval_dirty DROP CONSTRAINT interval_dirty_pkey;
ALTER TABLE interval_dirty ADD PRIMARY KEY (metering_point_id, start, community_id);
