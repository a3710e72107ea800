-- privacy (issue 20, phase 3): masking rule sets for the manager's exports, and the community's salt.

-- The community's secret for the `hash` masking rule: 32 random bytes as hex, sealed by the
-- secrets capability (like device keys). Made on first need and never changed: the same member
-- gets the same hash in every export of the community, so exports can be joined, never traced back.
CREATE TABLE masking_salts (
  community_id uuid PRIMARY KEY REFERENCES communities (id) ON DELETE CASCADE,
  salt text NOT NULL,
  created_at timestamptz NOT NULL
);

-- A manager's rule set for one export of the community: a rule per field (drop, hash, postcode,
-- hourly, keep), the fields not named following other_fields. Without a row the export uses
-- privacy's cautious default set.
CREATE TABLE masking_rule_sets (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  export_schema text NOT NULL,
  name text NOT NULL,
  fields jsonb NOT NULL,
  other_fields text NOT NULL CHECK (other_fields IN ('keep', 'drop')),
  updated_at timestamptz NOT NULL,
  updated_by uuid,
  PRIMARY KEY (community_id, export_schema)
);
