-- Which metering point a device was bound to, and when: one row per binding. A member sees a
-- device's data (readings, state and counters, the live stream) only from the time it was bound
-- to their site, so a device moved from member A's site to member B's shows B nothing of A's.
-- A device's first binding has no start (bound_from NULL): what the device sent before it was
-- ever bound belongs to no other member. Kept by the triggers below on every change of
-- devices.metering_point_id (the API, claiming, seeding, a deleted metering point), never
-- written by the application. No foreign key to metering_points: the history outlives a site.
CREATE TABLE device_bindings (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  device_id text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  community_id uuid NOT NULL,
  metering_point_id uuid NOT NULL,
  bound_from timestamptz,
  bound_until timestamptz,
  -- The device's counters (device_state) when the binding started: a member's counters start here.
  messages_at_start bigint NOT NULL DEFAULT 0,
  readings_at_start bigint NOT NULL DEFAULT 0,
  duplicates_at_start bigint NOT NULL DEFAULT 0,
  rejected_at_start bigint NOT NULL DEFAULT 0,
  CHECK (bound_until IS NULL OR bound_from IS NULL OR bound_from <= bound_until)
);
CREATE INDEX device_bindings_device_idx ON device_bindings (device_id, bound_from);
CREATE UNIQUE INDEX device_bindings_open_idx ON device_bindings (device_id) WHERE bound_until IS NULL;

CREATE FUNCTION devices_record_binding() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bound_before boolean;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    UPDATE device_bindings SET bound_until = now() WHERE device_id = NEW.id AND bound_until IS NULL;
  END IF;
  IF NEW.metering_point_id IS NOT NULL THEN
    bound_before := EXISTS (SELECT 1 FROM device_bindings WHERE device_id = NEW.id);
    INSERT INTO device_bindings (device_id, community_id, metering_point_id, bound_from,
      messages_at_start, readings_at_start, duplicates_at_start, rejected_at_start)
    SELECT NEW.id, NEW.community_id, NEW.metering_point_id, CASE WHEN bound_before THEN now() END,
      CASE WHEN bound_before THEN COALESCE(s.messages_total, 0) ELSE 0 END,
      CASE WHEN bound_before THEN COALESCE(s.readings_total, 0) ELSE 0 END,
      CASE WHEN bound_before THEN COALESCE(s.duplicates_total, 0) ELSE 0 END,
      CASE WHEN bound_before THEN COALESCE(s.rejected_total, 0) ELSE 0 END
    FROM (SELECT 1) AS one LEFT JOIN device_state s ON s.device_id = NEW.id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER devices_binding_on_insert AFTER INSERT ON devices
  FOR EACH ROW WHEN (NEW.metering_point_id IS NOT NULL) EXECUTE FUNCTION devices_record_binding();
CREATE TRIGGER devices_binding_on_move AFTER UPDATE OF metering_point_id ON devices
  FOR EACH ROW WHEN (OLD.metering_point_id IS DISTINCT FROM NEW.metering_point_id) EXECUTE FUNCTION devices_record_binding();

-- Bindings of the devices there are. Readings stored under another metering point than the
-- device's current one show that it was moved: its current binding starts after the last of them
-- arrived, and an unbound device that once sent data for a site keeps a closed binding, so its
-- next binding is not taken for its first.
WITH elsewhere AS (
  SELECT r.device_id, max(r.received_at) AS last_received,
    (array_agg(r.metering_point_id ORDER BY r.received_at DESC))[1] AS last_point
  FROM readings r JOIN devices d ON d.id = r.device_id
  WHERE r.metering_point_id IS NOT NULL AND r.metering_point_id IS DISTINCT FROM d.metering_point_id
  GROUP BY r.device_id
)
INSERT INTO device_bindings (device_id, community_id, metering_point_id, bound_from, bound_until)
SELECT d.id, d.community_id, COALESCE(d.metering_point_id, e.last_point),
  CASE WHEN d.metering_point_id IS NOT NULL THEN e.last_received END,
  CASE WHEN d.metering_point_id IS NULL THEN now() END
FROM devices d LEFT JOIN elsewhere e ON e.device_id = d.id
WHERE d.metering_point_id IS NOT NULL OR e.device_id IS NOT NULL;
