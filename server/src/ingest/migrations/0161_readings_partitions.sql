-- Readings partitioned by time (issue 22): one partition per UTC month, created ahead and removed
-- whole once the longest raw-readings retention has passed for all of it (a detach and a drop
-- instead of deleting rows one by one). partitions.ts and the reading-partitions job keep them.
--
-- The key gains community_id, so the table can be distributed by community as well
-- (server/test/store/distribution-keys.test.ts); it goes last so that every lookup by device,
-- quantity and time keeps its index. A partitioned table's key must contain the partition key: ts
-- is in it already.
--
-- Existing rows are copied once into the default partition, inside this migration's transaction
-- (nothing is lost if it fails). The job's first pass, at start, creates the monthly partitions
-- and moves each month's rows out of the default partition into its own, a month per transaction.
-- The default partition also keeps what has no monthly partition (yet): readings older than the
-- oldest kept month (removed by the job as retention passes) and beyond the months created ahead.
ALTER TABLE readings RENAME TO readings_unpartitioned;
ALTER TABLE readings_unpartitioned RENAME CONSTRAINT readings_pkey TO readings_unpartitioned_pkey;
ALTER INDEX readings_metering_point_idx RENAME TO readings_unpartitioned_metering_point_idx;

CREATE TABLE readings (
  device_id text COLLATE "C" NOT NULL,
  quantity text COLLATE "C" NOT NULL,
  ts timestamptz NOT NULL,
  value double precision NOT NULL,
  community_id uuid NOT NULL,
  -- Where the device was installed when the reading arrived; a device moved later keeps its history.
  metering_point_id uuid,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, quantity, ts, community_id)
) PARTITION BY RANGE (ts);
CREATE INDEX readings_metering_point_idx ON readings (metering_point_id, quantity, ts);
CREATE TABLE readings_default PARTITION OF readings DEFAULT;

INSERT INTO readings (device_id, quantity, ts, value, community_id, metering_point_id, received_at)
SELECT device_id, quantity, ts, value, community_id, metering_point_id, received_at FROM readings_unpartitioned;
DROP TABLE readings_unpartitioned;
