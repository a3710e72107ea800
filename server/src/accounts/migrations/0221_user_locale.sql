-- The language a person chose for the app, their dates, numbers, documents and emails (issue 21);
-- null: follow the browser, then the community.
ALTER TABLE users ADD COLUMN locale text CHECK (locale IN ('en', 'de'));
