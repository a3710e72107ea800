-- Every key of a table that holds one community's data carries community_id, so the table can be
-- distributed by community (Citus: `create_distributed_table(t, 'community_id')`) as it is: a
-- distributed table's primary key and unique keys must contain its distribution column.
-- server/test/store/distribution-keys.test.ts checks this over the catalog after all migrations.
--
-- community_id goes last: every lookup keeps the index it used (the old key is the new key's
-- prefix). What a key meant is unchanged, because a row's community never changes and a row's
-- identifier already determines its community (uuids, device ids issued once per installation,
-- a device or metering point in one community); the database now enforces it within a community.
-- Tables other tables reference by their own key alone (devices, metering_points, members, …)
-- follow with their foreign keys: the test lists them.

ALTER TABLE claim_codes DROP CONSTRAINT claim_codes_pkey, ADD PRIMARY KEY (code_hash, community_id);
ALTER TABLE control_commands DROP CONSTRAINT control_commands_pkey, ADD PRIMARY KEY (id, community_id);
ALTER TABLE device_bindings DROP CONSTRAINT device_bindings_pkey, ADD PRIMARY KEY (id, community_id);
DROP INDEX device_bindings_open_idx;
CREATE UNIQUE INDEX device_bindings_open_idx ON device_bindings (device_id, community_id) WHERE bound_until IS NULL;
ALTER TABLE device_credentials DROP CONSTRAINT device_credentials_pkey, ADD PRIMARY KEY (device_id, community_id);
ALTER TABLE device_events DROP CONSTRAINT device_events_pkey, ADD PRIMARY KEY (id, community_id);
ALTER TABLE device_roles DROP CONSTRAINT device_roles_pkey, ADD PRIMARY KEY (metering_point_id, device_id, community_id);
CREATE OR REPLACE FUNCTION devices_keep_role() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.metering_point_id IS NOT NULL THEN
    INSERT INTO device_roles (metering_point_id, device_id, community_id, role)
      VALUES (NEW.metering_point_id, NEW.id, NEW.community_id, NEW.role)
      ON CONFLICT (metering_point_id, device_id, community_id) DO UPDATE SET role = EXCLUDED.role;
  END IF;
  RETURN NULL;
END $$;
ALTER TABLE device_state DROP CONSTRAINT device_state_pkey, ADD PRIMARY KEY (device_id, community_id);
ALTER TABLE erasure_requests DROP CONSTRAINT erasure_requests_pkey, ADD PRIMARY KEY (id, community_id);
DROP INDEX erasure_requests_open_idx;
CREATE UNIQUE INDEX erasure_requests_open_idx ON erasure_requests (member_id, community_id) WHERE state <> 'failed';
ALTER TABLE flex_contract_devices DROP CONSTRAINT flex_contract_devices_pkey, ADD PRIMARY KEY (contract_id, device_id, community_id);
ALTER TABLE flex_offers DROP CONSTRAINT flex_offers_pkey, ADD PRIMARY KEY (message_id, community_id);
ALTER TABLE flex_outbox DROP CONSTRAINT flex_outbox_pkey, ADD PRIMARY KEY (id, community_id);
ALTER TABLE flex_prognoses DROP CONSTRAINT flex_prognoses_pkey, ADD PRIMARY KEY (message_id, community_id),
  DROP CONSTRAINT flex_prognoses_participant_id_congestion_point_period_revis_key,
  ADD CONSTRAINT flex_prognoses_revision_key UNIQUE (participant_id, congestion_point, period, revision, community_id);
ALTER TABLE flex_rewards DROP CONSTRAINT flex_rewards_pkey, ADD PRIMARY KEY (order_settlement_id, member_id, community_id);
ALTER TABLE forecast_accuracy DROP CONSTRAINT forecast_accuracy_pkey, ADD PRIMARY KEY (series_id, kind, model, horizon, day, community_id);
ALTER TABLE forecasts DROP CONSTRAINT forecasts_pkey, ADD PRIMARY KEY (series_id, kind, horizon, issued_at, community_id);
ALTER TABLE interval_failures DROP CONSTRAINT interval_failures_pkey, ADD PRIMARY KEY (metering_point_id, community_id);
ALTER TABLE interval_quarantine DROP CONSTRAINT interval_quarantine_pkey, ADD PRIMARY KEY (metering_point_id, start, series, community_id);
ALTER TABLE intervals DROP CONSTRAINT intervals_pkey, ADD PRIMARY KEY (metering_point_id, start, community_id);
ALTER TABLE invitations DROP CONSTRAINT invitations_pkey, ADD PRIMARY KEY (id, community_id);
ALTER TABLE member_energy DROP CONSTRAINT member_energy_pkey, ADD PRIMARY KEY (member_id, start, community_id);
ALTER TABLE meter_exchanges DROP CONSTRAINT meter_exchanges_pkey, ADD PRIMARY KEY (device_id, ts, community_id);
ALTER TABLE meter_keys DROP CONSTRAINT meter_keys_pkey, ADD PRIMARY KEY (device_id, community_id);
ALTER TABLE operator_allocations DROP CONSTRAINT operator_allocations_pkey, ADD PRIMARY KEY (metering_point_id, start, community_id);
ALTER TABLE operator_imports DROP CONSTRAINT operator_imports_pkey, ADD PRIMARY KEY (id, community_id);
ALTER TABLE statements DROP CONSTRAINT statements_pkey, ADD PRIMARY KEY (id, community_id),
  DROP CONSTRAINT statements_settlement_id_member_id_sequence_key,
  ADD CONSTRAINT statements_sequence_key UNIQUE (settlement_id, member_id, sequence, community_id);
ALTER TABLE tariffs DROP CONSTRAINT tariffs_pkey, ADD PRIMARY KEY (id, community_id);

-- These three already had community_id in their primary keys; a second unique index on the id
-- (or the device) alone only served lookups, which a plain index serves as well.
DROP INDEX optimise_plans_id;
CREATE INDEX optimise_plans_id ON optimise_plans (id);
DROP INDEX optimise_appliance_requests_id;
CREATE INDEX optimise_appliance_requests_id ON optimise_appliance_requests (id);
DROP INDEX optimise_device_control_device;
CREATE INDEX optimise_device_control_device ON optimise_device_control (device_id);
