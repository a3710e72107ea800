-- A plan may be triggered by a device's reported state departing from the last plan (issue 15):
-- a battery's or EV's state of charge beyond 10 % of its capacity, a heat pump's tank beyond 3 K.
ALTER TABLE optimise_plans DROP CONSTRAINT optimise_plans_trigger_check;
ALTER TABLE optimise_plans ADD CONSTRAINT optimise_plans_trigger_check
  CHECK (trigger IN ('schedule', 'forecast', 'override', 'settings', 'request', 'manual', 'device-state'));
