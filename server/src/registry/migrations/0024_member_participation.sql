-- When a member takes part in the community's sharing: from active_from (set on approval, or
-- by a manager to the date the grid operator activated the metering point) until left_at.
-- NULL active_from: no start recorded (members from before this migration, imports), i.e. every
-- quarter hour until leaving, which keeps earlier splits as they were.
ALTER TABLE members ADD COLUMN active_from timestamptz, ADD COLUMN left_at timestamptz;
UPDATE members SET left_at = decided_at WHERE state = 'left';
ALTER TABLE members ADD CONSTRAINT members_participation_order CHECK (left_at IS NULL OR active_from IS NULL OR active_from < left_at);
