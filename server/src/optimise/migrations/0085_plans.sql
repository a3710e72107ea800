-- The community's plans (issue 15, phase 2): one row per solve of the MPC job or a manager's
-- re-plan, with the SolveReport's figures, the objective weights, the scenario exactly as solved
-- (parseScenario input) and which asset stands for which device (so any plan can be re-solved and
-- explained), the plan document, the per-asset view, the commands sent and the saving.
CREATE TABLE optimise_plans (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  -- Orders plans decided at the same instant (a test's clock, a re-plan right after a plan).
  seq bigint GENERATED ALWAYS AS IDENTITY,
  decided_at timestamptz NOT NULL,
  trigger text NOT NULL CHECK (trigger IN ('schedule', 'forecast', 'override', 'settings', 'request', 'manual')),
  horizon_start timestamptz NOT NULL,
  horizon_end timestamptz NOT NULL,
  step_minutes smallint NOT NULL,
  status text NOT NULL,
  message text NOT NULL,
  objective double precision,
  bound double precision,
  relative_gap double precision,
  absolute_gap double precision,
  time_s double precision NOT NULL,
  size jsonb NOT NULL,
  warm_start boolean NOT NULL,
  weights jsonb NOT NULL,
  currency text NOT NULL,
  scenario jsonb NOT NULL,
  bindings jsonb NOT NULL,
  -- NULL when the solver found no plan (problems says why).
  document jsonb,
  assets jsonb NOT NULL DEFAULT '[]',
  community_import_w jsonb NOT NULL DEFAULT '[]',
  baseline_import_w jsonb NOT NULL DEFAULT '[]',
  problems jsonb NOT NULL DEFAULT '[]',
  commands jsonb NOT NULL DEFAULT '[]',
  -- Exact decimal strings of the currency (NULL without a plan).
  saving text,
  plan_cost text,
  baseline_cost text,
  PRIMARY KEY (community_id, id)
);
CREATE UNIQUE INDEX optimise_plans_id ON optimise_plans (id);
CREATE INDEX optimise_plans_latest ON optimise_plans (community_id, seq DESC);

-- The objective a community's manager picked (weights as in ObjectiveWeights); none: cost.
CREATE TABLE optimise_objectives (
  community_id uuid PRIMARY KEY REFERENCES communities (id) ON DELETE CASCADE,
  weights jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
