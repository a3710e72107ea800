-- A metering point's second id at the grid operator, for what it feeds in. In Austria a household
-- with PV has two Zählpunkte on one smart meter: one for consumption (grid_connection_id) and one
-- for generation; the operator's EDA messages name one of them each. Gridshare keeps one metering
-- point with import and export registers, so the generation Zählpunkt is an attribute of it.
ALTER TABLE metering_points ADD COLUMN generation_grid_connection_id text;
-- Only points that feed in have one, and it is not the consumption id again.
ALTER TABLE metering_points ADD CONSTRAINT metering_points_generation_role
  CHECK (generation_grid_connection_id IS NULL OR role IN ('producer', 'prosumer'));
ALTER TABLE metering_points ADD CONSTRAINT metering_points_generation_differs
  CHECK (generation_grid_connection_id IS NULL OR generation_grid_connection_id <> grid_connection_id);

-- Every id of every metering point, one row each, so that a single unique key says what the
-- service checks first: within a community an id names one metering point, whether it is that
-- point's consumption id or its generation id. Two UNIQUE constraints on the columns could not
-- catch one point's consumption id used as another's generation id; a trigger that only looked
-- would race with a concurrent insert, the primary key here does not. Kept by the trigger below,
-- never written by the application.
CREATE TABLE grid_connection_ids (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  grid_connection_id text NOT NULL,
  metering_point_id uuid NOT NULL REFERENCES metering_points (id) ON DELETE CASCADE,
  PRIMARY KEY (community_id, grid_connection_id)
);
CREATE INDEX grid_connection_ids_point_idx ON grid_connection_ids (metering_point_id);

INSERT INTO grid_connection_ids (community_id, grid_connection_id, metering_point_id)
  SELECT community_id, grid_connection_id, id FROM metering_points;

CREATE FUNCTION metering_points_grid_connection_ids() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Delete first: a point may swap its two ids, or take back an id it gave up in the same update.
  DELETE FROM grid_connection_ids WHERE metering_point_id = NEW.id;
  INSERT INTO grid_connection_ids (community_id, grid_connection_id, metering_point_id)
    VALUES (NEW.community_id, NEW.grid_connection_id, NEW.id);
  IF NEW.generation_grid_connection_id IS NOT NULL THEN
    INSERT INTO grid_connection_ids (community_id, grid_connection_id, metering_point_id)
      VALUES (NEW.community_id, NEW.generation_grid_connection_id, NEW.id);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER metering_points_grid_connection_ids
  AFTER INSERT OR UPDATE OF community_id, grid_connection_id, generation_grid_connection_id ON metering_points
  FOR EACH ROW EXECUTE FUNCTION metering_points_grid_connection_ids();
