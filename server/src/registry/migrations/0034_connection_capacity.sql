-- The physical limit of a metering point's grid connection, in W (e.g. 3 × 63 A at 230 V is
-- 43,470 W). NULL: the default for its role (see registry/metering-points.ts). A quarter hour
-- above it is not plausible and is quarantined by the interval job instead of being shared.
ALTER TABLE metering_points ADD COLUMN connection_capacity_w integer CHECK (connection_capacity_w > 0);
