-- How good the forecasts were: per series, model, horizon and UTC day of the targets, the sums
-- that MAE, RMSE, nRMSE, skill against persistence and band coverage are made of (whole watts,
-- exact integers: n, Σ|e|, Σe², Σ outcome, Σ(persistence error)², banded, inside the band).
-- The rolling 30-day accuracy is the sum of the last 30 days' rows.
CREATE TABLE forecast_accuracy (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  series_id uuid NOT NULL,
  scope text NOT NULL CHECK (scope IN ('point', 'community')),
  kind text NOT NULL CHECK (kind IN ('consumption', 'production', 'heat', 'surplus')),
  model text NOT NULL,
  horizon text NOT NULL CHECK (horizon IN ('intraday', 'day-ahead')),
  day date NOT NULL,
  n int8 NOT NULL,
  sum_abs_w int8 NOT NULL,
  sum_sq_w2 int8 NOT NULL,
  sum_actual_w int8 NOT NULL,
  sum_reference_sq_w2 int8 NOT NULL,
  banded int8 NOT NULL,
  inside int8 NOT NULL,
  PRIMARY KEY (series_id, kind, model, horizon, day)
);
CREATE INDEX forecast_accuracy_community ON forecast_accuracy (community_id, day);
