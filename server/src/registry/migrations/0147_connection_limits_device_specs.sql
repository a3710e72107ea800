-- Limits a plan must keep (issue 15, optimise's connection limits), in W.
-- A metering point's export limit: what its connection may feed in (a grid operator's feed-in cap,
-- e.g. 70 % of the PV or a zero-export connection). NULL: its connection capacity, as for import.
ALTER TABLE metering_points ADD COLUMN export_limit_w integer CHECK (export_limit_w >= 0);
-- The community's connection to the public grid as a whole (a shared transformer or a contracted
-- capacity): what all its sites together may import and export. NULL: no limit.
ALTER TABLE communities ADD COLUMN connection_import_limit_w integer CHECK (connection_import_limit_w > 0);
ALTER TABLE communities ADD COLUMN connection_export_limit_w integer CHECK (connection_export_limit_w >= 0);
-- A device's technical data (battery capacity and power, charger power and phases, heat pump COP,
-- tank, appliance run profile), by kind; validated by registry/domain/device-specs.ts. NULL: none
-- recorded (a plan then takes its defaults).
ALTER TABLE devices ADD COLUMN specs jsonb;
