-- How long a device of the community may stay silent before its member is told it is offline
-- (issue 21, notifications); null: no one is told.
ALTER TABLE communities ADD COLUMN device_offline_minutes integer CHECK (device_offline_minutes BETWEEN 1 AND 43200);
