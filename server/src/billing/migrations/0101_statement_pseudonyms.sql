-- Erasure (issue 20, privacy): a statement is kept for the legal period after its member erased
-- the account, but no longer under their name. The one change the database now lets through is
-- exactly that: the member's name, in the row and in the document, replaced by the pseudonym
-- (erased-…); every figure, every id and the rest of the document stay as issued.
CREATE OR REPLACE FUNCTION statements_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF NEW.display_name LIKE 'erased-%' AND NEW.document->>'displayName' = NEW.display_name
       AND (NEW.id, NEW.settlement_id, NEW.community_id, NEW.member_id, NEW.kind, NEW.sequence, NEW.currency, NEW.total, NEW.created_at)
         IS NOT DISTINCT FROM (OLD.id, OLD.settlement_id, OLD.community_id, OLD.member_id, OLD.kind, OLD.sequence, OLD.currency, OLD.total, OLD.created_at)
       AND (NEW.document - 'displayName') = (OLD.document - 'displayName') THEN
      RETURN NEW;
    END IF;
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
