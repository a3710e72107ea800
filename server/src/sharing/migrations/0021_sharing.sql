-- How a community's split is obtained: computed by Gridshare with its allocation rule, or
-- imported from the grid operator (Austria: EDA messages, see operator_allocations).
ALTER TABLE communities ADD COLUMN allocation_mode text NOT NULL DEFAULT 'compute'
  CHECK (allocation_mode IN ('compute', 'operator'));
-- The community's own battery: its charging and discharging are tracked by source, so energy it
-- stored from the grid is never passed on to members as community (renewable) energy.
ALTER TABLE metering_points ADD COLUMN community_battery boolean NOT NULL DEFAULT false;

-- Static shares (keys) per member, versioned: a version applies from valid_from until the next.
-- Σ shares of a version ≤ 1 (checked by the service with exact decimals).
CREATE TABLE allocation_shares (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  valid_from timestamptz NOT NULL,
  member_id uuid NOT NULL REFERENCES members (id) ON DELETE CASCADE,
  share numeric(10, 9) NOT NULL CHECK (share >= 0 AND share <= 1),
  PRIMARY KEY (community_id, valid_from, member_id)
);

-- Grid CO2 intensity for "CO2 avoided": a constant per community, optionally an hourly series.
CREATE TABLE co2_intensity (
  community_id uuid PRIMARY KEY REFERENCES communities (id) ON DELETE CASCADE,
  grams_per_kwh numeric(8, 3) NOT NULL CHECK (grams_per_kwh >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE co2_intensity_hours (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  hour timestamptz NOT NULL,
  grams_per_kwh numeric(8, 3) NOT NULL CHECK (grams_per_kwh >= 0),
  PRIMARY KEY (community_id, hour)
);

-- The grid operator's own allocation per metering point and quarter hour (operator mode).
CREATE TABLE operator_allocations (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  metering_point_id uuid NOT NULL REFERENCES metering_points (id) ON DELETE CASCADE,
  start timestamptz NOT NULL,
  consumption_wh bigint CHECK (consumption_wh >= 0),
  from_community_wh bigint CHECK (from_community_wh >= 0),
  production_wh bigint CHECK (production_wh >= 0),
  to_community_wh bigint CHECK (to_community_wh >= 0),
  source text NOT NULL,
  imported_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (metering_point_id, start)
);
CREATE INDEX operator_allocations_community_start_idx ON operator_allocations (community_id, start);

-- Who got which energy from where, per member and UTC quarter hour (see sharing/README.md).
-- Consumption side: what the member consumed, by source (own PV, community, grid); with a battery
-- behind the meter it follows the battery's source pool. Metered side: import and export at the
-- grid connection and their split, which is what is billed.
CREATE TABLE member_energy (
  member_id uuid NOT NULL REFERENCES members (id) ON DELETE CASCADE,
  start timestamptz NOT NULL,
  community_id uuid NOT NULL,
  import_wh bigint NOT NULL,
  export_wh bigint NOT NULL,
  consumption_wh bigint NOT NULL,
  self_consumed_wh bigint NOT NULL,
  from_community_wh bigint NOT NULL,
  from_grid_wh bigint NOT NULL,
  production_wh bigint NOT NULL,
  to_community_wh bigint NOT NULL,
  to_grid_wh bigint NOT NULL,
  -- Community energy allocated to the import (billed); differs from from_community_wh only when a
  -- battery behind the meter stored part of it.
  allocated_from_community_wh bigint NOT NULL,
  -- Part of from_community_wh that a community battery had stored from the grid (no CO2 avoided).
  community_grid_origin_wh bigint NOT NULL DEFAULT 0,
  quality text NOT NULL CHECK (quality IN ('measured', 'estimated', 'missing')),
  -- Some other member's data was missing in this settlement period: the split is provisional.
  provisional boolean NOT NULL DEFAULT false,
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (member_id, start),
  CHECK (consumption_wh = self_consumed_wh + from_community_wh + from_grid_wh),
  CHECK (production_wh = self_consumed_wh + to_community_wh + to_grid_wh)
);
CREATE INDEX member_energy_community_start_idx ON member_energy (community_id, start);

-- Source pool of each tracked battery after each quarter hour, so a late interval is recomputed
-- from the state before it and the change carried forward (see sharing/README.md).
CREATE TABLE battery_pools (
  metering_point_id uuid NOT NULL REFERENCES metering_points (id) ON DELETE CASCADE,
  start timestamptz NOT NULL,
  own_pv_wh bigint NOT NULL,
  community_wh bigint NOT NULL,
  grid_wh bigint NOT NULL,
  PRIMARY KEY (metering_point_id, start)
);

-- Quarter hours of a community whose split must be recomputed, marked in the same transaction
-- that changed their inputs (intervals, operator allocations, shares).
CREATE SEQUENCE sharing_dirty_version;
CREATE TABLE sharing_dirty (
  community_id uuid NOT NULL,
  start timestamptz NOT NULL,
  version bigint NOT NULL DEFAULT nextval('sharing_dirty_version'),
  PRIMARY KEY (community_id, start)
);
