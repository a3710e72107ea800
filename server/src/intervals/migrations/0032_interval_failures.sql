-- Metering points whose interval computation failed. Such a point is set aside until retry_at
-- (its marks in interval_dirty stay), so it never blocks another point or the job, and is retried
-- with a growing delay rather than in a tight loop. Managers see the error; /metrics counts them.
CREATE TABLE interval_failures (
  metering_point_id uuid PRIMARY KEY REFERENCES metering_points (id) ON DELETE CASCADE,
  community_id uuid NOT NULL,
  error text NOT NULL,
  attempts integer NOT NULL CHECK (attempts >= 1),
  first_failed_at timestamptz NOT NULL DEFAULT now(),
  last_failed_at timestamptz NOT NULL DEFAULT now(),
  retry_at timestamptz NOT NULL
);
CREATE INDEX interval_failures_community_idx ON interval_failures (community_id);
