-- sharing: battery_energy_days was created LIKE member_energy_days (0228), so its CHECK kept the
-- other table's name, and a violation on a battery's row would have named the members' table.
ALTER TABLE battery_energy_days RENAME CONSTRAINT member_energy_days_check TO battery_energy_days_check;
