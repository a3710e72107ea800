-- Energy per metering point and UTC quarter hour, derived from readings. NULL energy means
-- missing (never a silent zero); quality says how it was obtained.
CREATE TABLE intervals (
  metering_point_id uuid NOT NULL REFERENCES metering_points (id) ON DELETE CASCADE,
  start timestamptz NOT NULL,
  community_id uuid NOT NULL,
  import_wh bigint CHECK (import_wh >= 0),
  export_wh bigint CHECK (export_wh >= 0),
  pv_wh bigint CHECK (pv_wh >= 0),
  quality text NOT NULL CHECK (quality IN ('measured', 'estimated', 'missing')),
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (metering_point_id, start)
);
CREATE INDEX intervals_community_start_idx ON intervals (community_id, start);

-- Quarter hours whose readings changed since they were last computed. Written in the same
-- transaction as the readings, so a crash never leaves an interval stale. Marking again bumps
-- the version, so a computation that read older data never clears a newer mark.
CREATE SEQUENCE interval_dirty_version;
CREATE TABLE interval_dirty (
  metering_point_id uuid NOT NULL,
  start timestamptz NOT NULL,
  version bigint NOT NULL DEFAULT nextval('interval_dirty_version'),
  PRIMARY KEY (metering_point_id, start)
);
