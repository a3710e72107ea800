-- privacy (issue 20, phase 4): a grant's recipient token can be re-issued (a lost or leaked one);
-- the new token replaces the old one's hash in the same row, so the old one opens nothing from the
-- commit on. The generation counts the tokens a grant has had, for the audit trail (which never
-- sees a token or its hash).
ALTER TABLE consent_recipient_tokens ADD COLUMN generation integer NOT NULL DEFAULT 1;
