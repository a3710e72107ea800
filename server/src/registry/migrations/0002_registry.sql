-- Every registry table carries community_id so it can be distributed (Citus) by community.
CREATE TABLE communities (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  time_zone text NOT NULL,
  currency char(3) NOT NULL,
  locale text NOT NULL DEFAULT 'en',
  latitude double precision,
  longitude double precision,
  postcode text,
  grid_area text,
  country char(2),
  allocation_rule text NOT NULL DEFAULT 'dynamic',
  is_public boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX communities_postcode_idx ON communities (postcode);
CREATE INDEX communities_grid_area_idx ON communities (grid_area);

CREATE TABLE members (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('member', 'manager')),
  state text NOT NULL CHECK (state IN ('requested', 'active', 'rejected', 'left')),
  display_name text NOT NULL,
  join_message text NOT NULL DEFAULT '',
  requested_at timestamptz NOT NULL DEFAULT now(),
  decided_at timestamptz,
  decided_by uuid REFERENCES users (id) ON DELETE SET NULL,
  UNIQUE (community_id, user_id)
);
CREATE INDEX members_user_idx ON members (user_id);

CREATE TABLE metering_points (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  member_id uuid NOT NULL REFERENCES members (id) ON DELETE CASCADE,
  name text NOT NULL,
  address text NOT NULL DEFAULT '',
  grid_connection_id text NOT NULL,
  role text NOT NULL CHECK (role IN ('consumer', 'producer', 'prosumer')),
  pv_capacity_w integer CHECK (pv_capacity_w >= 0),
  battery_capacity_wh integer CHECK (battery_capacity_wh >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (community_id, grid_connection_id)
);
CREATE INDEX metering_points_member_idx ON metering_points (member_id);

CREATE TABLE devices (
  id text PRIMARY KEY,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  metering_point_id uuid REFERENCES metering_points (id) ON DELETE SET NULL,
  kind text NOT NULL CHECK (kind IN ('meter-reader', 'inverter', 'battery', 'ev-charger', 'smart-plug', 'heat-pump')),
  name text NOT NULL,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_community_idx ON devices (community_id);
CREATE INDEX devices_metering_point_idx ON devices (metering_point_id);

-- Prices per kWh in the community's currency, exact decimals.
CREATE TABLE tariffs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  name text NOT NULL,
  grid_price numeric(12, 6) NOT NULL CHECK (grid_price >= 0),
  community_price numeric(12, 6) NOT NULL CHECK (community_price >= 0),
  feed_in_price numeric(12, 6) NOT NULL CHECK (feed_in_price >= 0),
  grid_fee_reduction numeric(12, 6) NOT NULL DEFAULT 0 CHECK (grid_fee_reduction >= 0),
  time_of_use jsonb,
  valid_from date NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (community_id, valid_from)
);
