-- The solution of each community's last solved plan (issue 15): the next plan starts from it, also
-- after a restart or when another process takes the community's lease. Column values by name
-- (names end in `.t<step>`, so they land on the same instants of a later horizon); replaced by
-- every plan the solver found, kept when a plan found none.
CREATE TABLE optimise_warm_starts (
  community_id uuid PRIMARY KEY REFERENCES communities (id) ON DELETE CASCADE,
  plan_id uuid NOT NULL,
  horizon_start timestamptz NOT NULL,
  horizon_end timestamptz NOT NULL,
  step_ms integer NOT NULL CHECK (step_ms > 0),
  names text[] NOT NULL,
  solution double precision[] NOT NULL CHECK (cardinality(solution) = cardinality(names)),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- Retention keeps each community's latest plan with a document, which is this one.
  FOREIGN KEY (community_id, plan_id) REFERENCES optimise_plans (community_id, id) ON DELETE CASCADE
);

-- Retention deletes plans decided before a cut-off across every community.
CREATE INDEX optimise_plans_decided_at ON optimise_plans (decided_at);
