-- The electric energy of a site's heat pumps (devices of kind heat-pump: their energy.import
-- register or power.import samples) per quarter hour. Recorded only: the heat pump is behind
-- the billing meter, so this is already in import_wh and feeds no other figure; the forecast
-- of heat demand reads it. NULL: no heat pump, or not measured (never a silent zero). Quarter
-- hours computed before this column have NULL until their readings are computed again.
ALTER TABLE intervals ADD COLUMN heat_pump_wh bigint CHECK (heat_pump_wh >= 0);
-- A heat pump's figure beyond the site's limit is quarantined like any other series.
ALTER TABLE interval_quarantine DROP CONSTRAINT interval_quarantine_series_check;
ALTER TABLE interval_quarantine ADD CONSTRAINT interval_quarantine_series_check
  CHECK (series IN ('import', 'export', 'pv', 'batteryCharge', 'batteryDischarge', 'heatPump'));
