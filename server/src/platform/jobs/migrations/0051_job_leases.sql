-- Who is doing which unit of work of a background job (a metering point of the interval job, a
-- community of the sharing job, an outbox row), until when. A pass takes its units with one
-- upsert that only succeeds where no live lease of another holder exists, so several Gridshare
-- processes on one PostgreSQL never work on the same unit at once; a crashed holder's leases
-- simply expire. Rows are removed when the pass ends.
CREATE TABLE job_leases (
  job text NOT NULL,
  unit text NOT NULL,
  holder text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (job, unit)
);
