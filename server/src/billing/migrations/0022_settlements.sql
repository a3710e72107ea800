-- A month of a community settled: statements per member. A draft may be run again (its
-- statements are replaced); a closed settlement and its statements never change again: late
-- data gives correction statements (the difference to what was issued), added beside them.
CREATE TABLE settlements (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  period text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  period_start timestamptz NOT NULL,
  period_end timestamptz NOT NULL CHECK (period_end > period_start),
  state text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'closed')),
  created_at timestamptz NOT NULL DEFAULT now(),
  computed_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz,
  -- No foreign key: removing the user must not have to change a closed settlement.
  closed_by uuid,
  UNIQUE (community_id, period)
);

-- member_id has no foreign key: an issued statement outlives the member record.
CREATE TABLE statements (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  settlement_id uuid NOT NULL REFERENCES settlements (id) ON DELETE CASCADE,
  community_id uuid NOT NULL,
  member_id uuid NOT NULL,
  display_name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('statement', 'correction')),
  -- 0 for the statement, 1, 2, … for the corrections that follow it.
  sequence integer NOT NULL CHECK (sequence >= 0),
  currency char(3) NOT NULL,
  total text NOT NULL,
  document jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (settlement_id, member_id, sequence),
  CHECK ((kind = 'statement') = (sequence = 0))
);
CREATE INDEX statements_member_idx ON statements (member_id, created_at);

-- Immutability in the database itself, whatever the application does: a closed settlement is
-- never changed or removed (only removing the whole community removes it), statements are
-- never updated, and a closed settlement only gets corrections.
CREATE FUNCTION settlements_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.state = 'closed' THEN
    RAISE EXCEPTION 'settlement % is closed and cannot change', OLD.id USING ERRCODE = 'check_violation';
  END IF;
  IF TG_OP = 'DELETE' AND OLD.state = 'closed' AND EXISTS (SELECT 1 FROM communities WHERE id = OLD.community_id) THEN
    RAISE EXCEPTION 'settlement % is closed and cannot be removed', OLD.id USING ERRCODE = 'check_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER settlements_immutable BEFORE UPDATE OR DELETE ON settlements FOR EACH ROW EXECUTE FUNCTION settlements_immutable();

CREATE FUNCTION statements_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    RAISE EXCEPTION 'statements are never changed (statement %)', OLD.id USING ERRCODE = 'check_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN
    IF EXISTS (SELECT 1 FROM settlements WHERE id = OLD.settlement_id AND state = 'closed')
       AND EXISTS (SELECT 1 FROM communities WHERE id = OLD.community_id) THEN
      RAISE EXCEPTION 'statement % belongs to a closed settlement', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN OLD;
  END IF;
  IF NEW.kind = 'statement' AND EXISTS (SELECT 1 FROM settlements WHERE id = NEW.settlement_id AND state = 'closed') THEN
    RAISE EXCEPTION 'a closed settlement only takes corrections' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER statements_immutable BEFORE INSERT OR UPDATE OR DELETE ON statements FOR EACH ROW EXECUTE FUNCTION statements_immutable();
