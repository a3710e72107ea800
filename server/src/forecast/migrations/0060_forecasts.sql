-- Forecasts as issued (issue 14, phase 2): one row per series, horizon and issue time, the
-- quantiles of every target interval in arrays (mean W over the interval, whole watts; NULL where
-- there is no forecast). A series is a metering point's consumption, production or heat-pump
-- power (series_id = the point), or the community's consumption, production or surplus
-- (series_id = the community). Rows older than the retention (35 days) are pruned by the job.
CREATE TABLE forecasts (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  series_id uuid NOT NULL,
  scope text NOT NULL CHECK (scope IN ('point', 'community')),
  kind text NOT NULL CHECK (kind IN ('consumption', 'production', 'heat', 'surplus')),
  horizon text NOT NULL CHECK (horizon IN ('intraday', 'day-ahead')),
  issued_at timestamptz NOT NULL,
  start timestamptz NOT NULL,
  step_minutes smallint NOT NULL CHECK (step_minutes IN (15, 30, 60)),
  model text NOT NULL,
  p10_w int4[] NOT NULL,
  p50_w int4[] NOT NULL,
  p90_w int4[] NOT NULL,
  -- When the forecast was compared with what happened (forecast_accuracy); NULL: not yet.
  scored_at timestamptz,
  CHECK (cardinality(p50_w) = cardinality(p10_w) AND cardinality(p50_w) = cardinality(p90_w)),
  CHECK ((scope = 'community') = (kind = 'surplus' OR series_id = community_id)),
  PRIMARY KEY (series_id, kind, horizon, issued_at)
);
CREATE INDEX forecasts_community_issued ON forecasts (community_id, issued_at);
CREATE INDEX forecasts_unscored ON forecasts (community_id, start) WHERE scored_at IS NULL;
