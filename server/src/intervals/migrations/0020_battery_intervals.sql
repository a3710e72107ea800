-- Battery charge and discharge energy per quarter hour where a battery behind the meter reports
-- them (battery.energy.charge|discharge registers or battery.power.charge|discharge samples).
-- NULL: not measured. They do not change the interval's quality, which is that of import/export.
ALTER TABLE intervals ADD COLUMN battery_charge_wh bigint CHECK (battery_charge_wh >= 0);
ALTER TABLE intervals ADD COLUMN battery_discharge_wh bigint CHECK (battery_discharge_wh >= 0);
