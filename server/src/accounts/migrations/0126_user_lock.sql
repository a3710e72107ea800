-- A platform admin locks an account: it cannot log in and its sessions and API tokens end.
-- NULL: not locked.
ALTER TABLE users ADD COLUMN locked_at timestamptz;
