-- Flexibility contracts with a DSO (issue 18, contract phase) and members' devices taking part.

-- A contract of the community (as aggregator) with one DSO of its address book, for some of that
-- DSO's congestion points. Windows are local times in time_zone (the UFTP identity's when the
-- contract was last written); prices are exact micro-units (10⁻⁶) of currency: per kW and month,
-- per kWh delivered, per kWh short. A participant with contracts cannot be removed.
CREATE TABLE flex_contracts (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  participant_id uuid NOT NULL REFERENCES flex_participants (id),
  congestion_points text[] NOT NULL CHECK (cardinality(congestion_points) >= 1),
  service_type text NOT NULL CHECK (service_type IN ('capacity-management', 'congestion-management')),
  valid_from date NOT NULL,
  valid_to date NOT NULL CHECK (valid_to >= valid_from),
  time_zone text NOT NULL,
  windows jsonb NOT NULL,
  currency text NOT NULL,
  capacity_price bigint NOT NULL CHECK (capacity_price >= 0),
  volume_price bigint NOT NULL CHECK (volume_price >= 0),
  penalty_rate bigint NOT NULL CHECK (penalty_rate >= 0),
  state text NOT NULL CHECK (state IN ('draft', 'active', 'ended')),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  activated_at timestamptz,
  ended_at timestamptz
);
CREATE INDEX flex_contracts_community ON flex_contracts (community_id, created_at);

-- A member's device opted in to a contract, with the most power (W) they allow for flexibility
-- (null: no limit beyond the device's own); opting out deletes the row.
CREATE TABLE flex_contract_devices (
  contract_id uuid NOT NULL REFERENCES flex_contracts (id) ON DELETE CASCADE,
  device_id text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  member_id uuid NOT NULL,
  max_power_w integer CHECK (max_power_w > 0),
  opted_in_at timestamptz NOT NULL,
  PRIMARY KEY (contract_id, device_id)
);
CREATE INDEX flex_contract_devices_device ON flex_contract_devices (device_id);
