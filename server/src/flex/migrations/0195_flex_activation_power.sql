-- Manual activation requests (issue 18, operate): the power a member says they will move by hand when
-- accepting. Null = the most their opt-in allows (max_power_w); an opt-in without a maximum needs it,
-- else the plan could count nothing for an accepted request. Counted: the smaller of the two.
ALTER TABLE flex_activation_requests ADD COLUMN power_w integer CHECK (power_w IS NULL OR power_w > 0);
