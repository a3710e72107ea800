-- The last community tables referenced by their own id alone (metering points, devices, connector
-- instances, congestion points) get community_id in their primary key, and the tables below them
-- that had no community_id get it, filled from the row they belong to (issue 22; 0160, 0172).
-- Their stores now write it; the distribution-key test checks the result over the catalog.
--
-- The ids stay the keys' first columns, so every lookup by id keeps its index. A reference
-- cleared when its target goes (ON DELETE SET NULL) clears only its own column.

ALTER TABLE agent_heartbeats ADD COLUMN community_id uuid;
UPDATE agent_heartbeats h SET community_id = d.community_id FROM devices d WHERE d.id = h.device_id;
ALTER TABLE agent_heartbeats ALTER COLUMN community_id SET NOT NULL,
  DROP CONSTRAINT agent_heartbeats_pkey, ADD PRIMARY KEY (device_id, community_id);

ALTER TABLE battery_pools ADD COLUMN community_id uuid;
UPDATE battery_pools b SET community_id = p.community_id FROM metering_points p WHERE p.id = b.metering_point_id;
ALTER TABLE battery_pools ALTER COLUMN community_id SET NOT NULL,
  DROP CONSTRAINT battery_pools_pkey, ADD PRIMARY KEY (metering_point_id, start, community_id);

ALTER TABLE connector_status ADD COLUMN community_id uuid;
UPDATE connector_status s SET community_id = i.community_id FROM connector_instances i WHERE i.id = s.instance_id;
ALTER TABLE connector_status ALTER COLUMN community_id SET NOT NULL,
  DROP CONSTRAINT connector_status_pkey, ADD PRIMARY KEY (instance_id, community_id);

ALTER TABLE connector_runs ADD COLUMN community_id uuid;
UPDATE connector_runs r SET community_id = i.community_id FROM connector_instances i WHERE i.id = r.instance_id;
ALTER TABLE connector_runs ALTER COLUMN community_id SET NOT NULL,
  DROP CONSTRAINT connector_runs_pkey, ADD PRIMARY KEY (id, community_id);

ALTER TABLE flex_congestion_point_connections ADD COLUMN community_id uuid;
UPDATE flex_congestion_point_connections c SET community_id = p.community_id FROM flex_congestion_points p WHERE p.id = c.congestion_point_id;
ALTER TABLE flex_congestion_point_connections ALTER COLUMN community_id SET NOT NULL,
  DROP CONSTRAINT flex_congestion_point_connections_pkey, ADD PRIMARY KEY (congestion_point_id, entity_address, community_id);

-- One DSO's congestion point per EAN, and one billing meter per metering point: a participant and
-- a metering point belong to one community, so adding it changes nothing they allow.
ALTER TABLE flex_congestion_points DROP CONSTRAINT flex_congestion_points_participant_id_entity_address_key,
  ADD CONSTRAINT flex_congestion_points_participant_id_entity_address_key UNIQUE (participant_id, entity_address, community_id);
DROP INDEX devices_one_billing_meter;
CREATE UNIQUE INDEX devices_one_billing_meter ON devices (metering_point_id, community_id) WHERE role = 'billing-meter';

-- metering_points
ALTER TABLE battery_pools DROP CONSTRAINT battery_pools_metering_point_id_fkey;
ALTER TABLE device_roles DROP CONSTRAINT device_roles_metering_point_id_fkey;
ALTER TABLE devices DROP CONSTRAINT devices_metering_point_id_fkey;
ALTER TABLE grid_connection_ids DROP CONSTRAINT grid_connection_ids_metering_point_id_fkey;
ALTER TABLE interval_failures DROP CONSTRAINT interval_failures_metering_point_id_fkey;
ALTER TABLE interval_quarantine DROP CONSTRAINT interval_quarantine_metering_point_id_fkey;
ALTER TABLE intervals DROP CONSTRAINT intervals_metering_point_id_fkey;
ALTER TABLE operator_allocations DROP CONSTRAINT operator_allocations_metering_point_id_fkey;
ALTER TABLE operator_figures DROP CONSTRAINT operator_figures_metering_point_id_fkey;
ALTER TABLE operator_imports DROP CONSTRAINT operator_imports_metering_point_id_fkey;
ALTER TABLE metering_points DROP CONSTRAINT metering_points_pkey, ADD PRIMARY KEY (id, community_id);
ALTER TABLE battery_pools ADD CONSTRAINT battery_pools_metering_point_id_fkey
  FOREIGN KEY (metering_point_id, community_id) REFERENCES metering_points (id, community_id) ON DELETE CASCADE;
ALTER TABLE device_roles ADD CONSTRAINT device_roles_metering_point_id_fkey
  FOREIGN KEY (metering_point_id, community_id) REFERENCES metering_points (id, community_id) ON DELETE CASCADE;
ALTER TABLE devices ADD CONSTRAINT devices_metering_point_id_fkey
  FOREIGN KEY (metering_point_id, community_id) REFERENCES metering_points (id, community_id) ON DELETE SET NULL (metering_point_id);
ALTER TABLE grid_connection_ids ADD CONSTRAINT grid_connection_ids_metering_point_id_fkey
  FOREIGN KEY (metering_point_id, community_id) REFERENCES metering_points (id, community_id) ON DELETE CASCADE;
ALTER TABLE interval_failures ADD CONSTRAINT interval_failures_metering_point_id_fkey
  FOREIGN KEY (metering_point_id, community_id) REFERENCES metering_points (id, community_id) ON DELETE CASCADE;
ALTER TABLE interval_quarantine ADD CONSTRAINT interval_quarantine_metering_point_id_fkey
  FOREIGN KEY (metering_point_id, community_id) REFERENCES metering_points (id, community_id) ON DELETE CASCADE;
ALTER TABLE intervals ADD CONSTRAINT intervals_metering_point_id_fkey
  FOREIGN KEY (metering_point_id, community_id) REFERENCES metering_points (id, community_id) ON DELETE CASCADE;
ALTER TABLE operator_allocations ADD CONSTRAINT operator_allocations_metering_point_id_fkey
  FOREIGN KEY (metering_point_id, community_id) REFERENCES metering_points (id, community_id) ON DELETE CASCADE;
ALTER TABLE operator_figures ADD CONSTRAINT operator_figures_metering_point_id_fkey
  FOREIGN KEY (metering_point_id, community_id) REFERENCES metering_points (id, community_id) ON DELETE CASCADE;
ALTER TABLE operator_imports ADD CONSTRAINT operator_imports_metering_point_id_fkey
  FOREIGN KEY (metering_point_id, community_id) REFERENCES metering_points (id, community_id) ON DELETE SET NULL (metering_point_id);

-- devices
ALTER TABLE agent_heartbeats DROP CONSTRAINT agent_heartbeats_device_id_fkey;
ALTER TABLE claim_codes DROP CONSTRAINT claim_codes_device_id_fkey;
ALTER TABLE control_commands DROP CONSTRAINT control_commands_device_id_fkey;
ALTER TABLE device_bindings DROP CONSTRAINT device_bindings_device_id_fkey;
ALTER TABLE device_credentials DROP CONSTRAINT device_credentials_device_id_fkey;
ALTER TABLE device_events DROP CONSTRAINT device_events_device_id_fkey;
ALTER TABLE device_state DROP CONSTRAINT device_state_device_id_fkey;
ALTER TABLE flex_contract_devices DROP CONSTRAINT flex_contract_devices_device_id_fkey;
ALTER TABLE meter_exchanges DROP CONSTRAINT meter_exchanges_device_id_fkey;
ALTER TABLE meter_keys DROP CONSTRAINT meter_keys_device_id_fkey;
ALTER TABLE optimise_appliance_requests DROP CONSTRAINT optimise_appliance_requests_device_id_fkey;
ALTER TABLE optimise_device_control DROP CONSTRAINT optimise_device_control_device_id_fkey;
ALTER TABLE devices DROP CONSTRAINT devices_pkey, ADD PRIMARY KEY (id, community_id);
ALTER TABLE agent_heartbeats ADD CONSTRAINT agent_heartbeats_device_id_fkey
  FOREIGN KEY (device_id, community_id) REFERENCES devices (id, community_id) ON DELETE CASCADE;
ALTER TABLE claim_codes ADD CONSTRAINT claim_codes_device_id_fkey
  FOREIGN KEY (device_id, community_id) REFERENCES devices (id, community_id) ON DELETE CASCADE;
ALTER TABLE control_commands ADD CONSTRAINT control_commands_device_id_fkey
  FOREIGN KEY (device_id, community_id) REFERENCES devices (id, community_id) ON DELETE CASCADE;
ALTER TABLE device_bindings ADD CONSTRAINT device_bindings_device_id_fkey
  FOREIGN KEY (device_id, community_id) REFERENCES devices (id, community_id) ON DELETE CASCADE;
ALTER TABLE device_credentials ADD CONSTRAINT device_credentials_device_id_fkey
  FOREIGN KEY (device_id, community_id) REFERENCES devices (id, community_id) ON DELETE CASCADE;
ALTER TABLE device_events ADD CONSTRAINT device_events_device_id_fkey
  FOREIGN KEY (device_id, community_id) REFERENCES devices (id, community_id) ON DELETE CASCADE;
ALTER TABLE device_state ADD CONSTRAINT device_state_device_id_fkey
  FOREIGN KEY (device_id, community_id) REFERENCES devices (id, community_id) ON DELETE CASCADE;
ALTER TABLE flex_contract_devices ADD CONSTRAINT flex_contract_devices_device_id_fkey
  FOREIGN KEY (device_id, community_id) REFERENCES devices (id, community_id) ON DELETE CASCADE;
ALTER TABLE meter_exchanges ADD CONSTRAINT meter_exchanges_device_id_fkey
  FOREIGN KEY (device_id, community_id) REFERENCES devices (id, community_id) ON DELETE CASCADE;
ALTER TABLE meter_keys ADD CONSTRAINT meter_keys_device_id_fkey
  FOREIGN KEY (device_id, community_id) REFERENCES devices (id, community_id) ON DELETE CASCADE;
ALTER TABLE optimise_appliance_requests ADD CONSTRAINT optimise_appliance_requests_device_id_fkey
  FOREIGN KEY (device_id, community_id) REFERENCES devices (id, community_id) ON DELETE CASCADE;
ALTER TABLE optimise_device_control ADD CONSTRAINT optimise_device_control_device_id_fkey
  FOREIGN KEY (device_id, community_id) REFERENCES devices (id, community_id) ON DELETE CASCADE;

-- connector_instances
ALTER TABLE connector_runs DROP CONSTRAINT connector_runs_instance_id_fkey;
ALTER TABLE connector_status DROP CONSTRAINT connector_status_instance_id_fkey;
ALTER TABLE connector_instances DROP CONSTRAINT connector_instances_pkey, ADD PRIMARY KEY (id, community_id);
ALTER TABLE connector_runs ADD CONSTRAINT connector_runs_instance_id_fkey
  FOREIGN KEY (instance_id, community_id) REFERENCES connector_instances (id, community_id) ON DELETE CASCADE;
ALTER TABLE connector_status ADD CONSTRAINT connector_status_instance_id_fkey
  FOREIGN KEY (instance_id, community_id) REFERENCES connector_instances (id, community_id) ON DELETE CASCADE;

-- flex_congestion_points
ALTER TABLE flex_congestion_point_connections DROP CONSTRAINT flex_congestion_point_connections_congestion_point_id_fkey;
ALTER TABLE flex_congestion_points DROP CONSTRAINT flex_congestion_points_pkey, ADD PRIMARY KEY (id, community_id);
ALTER TABLE flex_congestion_point_connections ADD CONSTRAINT flex_congestion_point_connections_congestion_point_id_fkey
  FOREIGN KEY (congestion_point_id, community_id) REFERENCES flex_congestion_points (id, community_id) ON DELETE CASCADE;
