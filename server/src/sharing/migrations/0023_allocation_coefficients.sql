-- Time-varying keys: Spain's hourly distribution coefficients, the French PMO's coefficients for
-- the "dynamique simple" key. A period is covered once a coefficient file named it (even if every
-- line of it named supply points outside the community: their part goes to the grid); within a
-- covered period the coefficients replace the static key, members without a row have 0.
CREATE TABLE allocation_coefficient_periods (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  start timestamptz NOT NULL,
  period_minutes smallint NOT NULL CHECK (period_minutes IN (15, 30, 60)),
  uploaded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (community_id, start)
);
CREATE TABLE allocation_coefficients (
  community_id uuid NOT NULL,
  start timestamptz NOT NULL,
  member_id uuid NOT NULL REFERENCES members (id) ON DELETE CASCADE,
  coefficient numeric(10, 9) NOT NULL CHECK (coefficient >= 0 AND coefficient <= 1),
  PRIMARY KEY (community_id, start, member_id),
  FOREIGN KEY (community_id, start) REFERENCES allocation_coefficient_periods (community_id, start) ON DELETE CASCADE
);
