-- Operator-import mode (Austria, EDA): every ConsumptionRecord message imported into a community,
-- and the operator's codes as sent, for reconciliation. See sharing/README.md, "Operator mode".

-- One row per imported message. The message id is unique per community: importing the same
-- message again answers with this row and changes nothing (body_sha256 tells a replay from a
-- different message reusing the id, which is refused).
CREATE TABLE operator_imports (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  message_id text NOT NULL,
  conversation_id text NOT NULL,
  -- PROD, SIMU (a test message, imported only on request) or null when the message has none.
  document_mode text,
  schema_version text NOT NULL,
  -- The community the operator addressed (ECID, from schema 01.40); communities have no EC-ID
  -- column yet, so it is recorded, not checked.
  ec_id text,
  -- The message's Zählpunkt and the metering point it was mapped to (by grid_connection_id).
  grid_connection_id text NOT NULL,
  metering_point_id uuid REFERENCES metering_points (id) ON DELETE SET NULL,
  sender text,
  -- DocumentCreationDateTime: decides which of two messages' values is newer.
  message_created_at timestamptz,
  period_from timestamptz NOT NULL,
  period_to timestamptz NOT NULL,
  rows_stored integer NOT NULL CHECK (rows_stored >= 0),
  unmatched text[] NOT NULL DEFAULT '{}',
  unknown_codes text[] NOT NULL DEFAULT '{}',
  body_sha256 text NOT NULL,
  imported_by uuid REFERENCES users (id) ON DELETE SET NULL,
  imported_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (community_id, message_id)
);
CREATE INDEX operator_imports_community_imported_idx ON operator_imports (community_id, imported_at DESC);

-- The operator's codes per Zählpunkt and quarter hour, merged over all messages: codes is a JSON
-- object { "<meter code>": { milliWh, quality, messageId, createdAtMs } } with exact values (mWh)
-- and the metering method's quality. operator_allocations holds the four fields the sharing job
-- uses; this table keeps what they were derived from (share G.02, participating values, exact
-- coverage), so that reconciliation checks the operator's own figures, not a rounded summary.
CREATE TABLE operator_figures (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  grid_connection_id text NOT NULL,
  start timestamptz NOT NULL,
  metering_point_id uuid NOT NULL REFERENCES metering_points (id) ON DELETE CASCADE,
  ec_id text,
  codes jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (community_id, grid_connection_id, start)
);
CREATE INDEX operator_figures_community_start_idx ON operator_figures (community_id, start);
