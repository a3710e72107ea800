-- A community's weather source (an HTTP server answering in the Open-Meteo format; none: every
-- model forecasts without weather) and the last good answer, used when the source fails.
CREATE TABLE forecast_weather_sources (
  community_id uuid PRIMARY KEY REFERENCES communities (id) ON DELETE CASCADE,
  url text NOT NULL CHECK (url ~ '^https?://'),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE forecast_weather_cache (
  community_id uuid PRIMARY KEY REFERENCES communities (id) ON DELETE CASCADE,
  url text NOT NULL,
  fetched_at timestamptz NOT NULL,
  -- { startMs, stepMs, temperatureC, ghiWm2, cloudCoverPct } with null for missing values.
  weather jsonb NOT NULL
);
