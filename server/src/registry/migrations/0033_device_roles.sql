-- What a device bound to a metering point measures there. Only the point's billing meter gives
-- its import and export (the grid balance the community shares); a production device (a PV
-- inverter) gives its PV, a storage device (a battery) its charge and discharge; a sub-load (a
-- sub-meter, an EV charger, a heat pump) is recorded but feeds neither. Registers are never
-- combined across devices. A bound device always has a role; an unbound one has none.
ALTER TABLE devices ADD COLUMN role text CHECK (role IN ('billing-meter', 'production', 'storage', 'sub-load'));

-- The role a device of a kind gets when it is bound without one.
CREATE FUNCTION device_default_role(kind text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE kind WHEN 'meter-reader' THEN 'billing-meter' WHEN 'inverter' THEN 'production' WHEN 'battery' THEN 'storage' ELSE 'sub-load' END
$$;

-- Existing bindings: per point one billing meter, its first meter reader (else its first device,
-- e.g. the inverter that is a producer's only meter); every other device by its kind, a further
-- meter reader as a sub-meter.
WITH billing AS (
  SELECT DISTINCT ON (metering_point_id) metering_point_id, id FROM devices WHERE metering_point_id IS NOT NULL
  ORDER BY metering_point_id, (kind = 'meter-reader') DESC, claimed_at NULLS LAST, created_at, id)
UPDATE devices d SET role = CASE
    WHEN d.id = b.id THEN 'billing-meter'
    WHEN device_default_role(d.kind) = 'billing-meter' THEN 'sub-load'
    ELSE device_default_role(d.kind) END
FROM billing b WHERE b.metering_point_id = d.metering_point_id;

ALTER TABLE devices ADD CONSTRAINT devices_bound_with_role CHECK (metering_point_id IS NULL OR role IS NOT NULL);
-- One billing meter per metering point, whatever writes: the service's check says which device
-- holds the role, this index refuses the same under concurrent writes.
CREATE UNIQUE INDEX devices_one_billing_meter ON devices (metering_point_id) WHERE role = 'billing-meter';

-- A binding without a role (written below the service: fixtures, older code) takes the kind's
-- default; unbinding clears the role.
CREATE FUNCTION devices_role_on_binding() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.metering_point_id IS NULL THEN
    NEW.role := NULL;
  ELSIF NEW.role IS NULL THEN
    NEW.role := device_default_role(NEW.kind);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER devices_role_on_binding BEFORE INSERT OR UPDATE OF metering_point_id, role ON devices
  FOR EACH ROW EXECUTE FUNCTION devices_role_on_binding();

-- The role each device has had at each metering point, kept when it moves on, so the readings it
-- left there (stamped with the point at arrival) keep meaning what they meant. Kept by the
-- trigger below, never written by the application; read by the interval job.
CREATE TABLE device_roles (
  metering_point_id uuid NOT NULL REFERENCES metering_points (id) ON DELETE CASCADE,
  device_id text NOT NULL,
  community_id uuid NOT NULL,
  role text NOT NULL CHECK (role IN ('billing-meter', 'production', 'storage', 'sub-load')),
  PRIMARY KEY (metering_point_id, device_id)
);
INSERT INTO device_roles (metering_point_id, device_id, community_id, role)
  SELECT metering_point_id, id, community_id, role FROM devices WHERE metering_point_id IS NOT NULL;
-- Readings left at a point by a device bound elsewhere now (or deleted) keep the meaning they had.
INSERT INTO device_roles (metering_point_id, device_id, community_id, role)
  SELECT r.metering_point_id, r.device_id, mp.community_id, COALESCE(device_default_role(d.kind), 'billing-meter')
  FROM (SELECT DISTINCT device_id, metering_point_id FROM readings WHERE metering_point_id IS NOT NULL) r
  JOIN metering_points mp ON mp.id = r.metering_point_id LEFT JOIN devices d ON d.id = r.device_id
  ON CONFLICT DO NOTHING;

CREATE FUNCTION devices_keep_role() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.metering_point_id IS NOT NULL THEN
    INSERT INTO device_roles (metering_point_id, device_id, community_id, role)
      VALUES (NEW.metering_point_id, NEW.id, NEW.community_id, NEW.role)
      ON CONFLICT (metering_point_id, device_id) DO UPDATE SET role = EXCLUDED.role;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER devices_keep_role AFTER INSERT OR UPDATE OF metering_point_id, role ON devices
  FOR EACH ROW EXECUTE FUNCTION devices_keep_role();
