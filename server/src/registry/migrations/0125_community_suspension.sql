-- A platform admin suspends a community: its members, managers and devices are refused until it
-- is resumed; its data stays. NULL: not suspended.
ALTER TABLE communities ADD COLUMN suspended_at timestamptz;
ALTER TABLE communities ADD COLUMN suspended_reason text;
