-- Meter keys are stored sealed with the installation's master key (AES-256-GCM, see secrets/):
-- the checks for plain hex go. Rows stored in plain text before are sealed at the next start.
ALTER TABLE meter_keys DROP CONSTRAINT IF EXISTS meter_keys_encryption_key_check;
ALTER TABLE meter_keys DROP CONSTRAINT IF EXISTS meter_keys_authentication_key_check;
