-- Erasure (issue 20, privacy): the trail masks names, emails, addresses and accounts when it is
-- written, but keeps free text and grid numbers (a join request's message, a site's name and grid
-- connection id, a consent's recipient label and purpose) so that managers can follow changes.
-- When the member erases their account, those values in the entries about them become "[erased]"
-- (`redactEntriesAbout`). The one change the append-only trail now lets through is exactly that:
-- the same entry, the same paths in the same order, each side either unchanged or "[erased]".
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND (NEW.id, NEW.at, NEW.community_id, NEW.kind, NEW.resource_id, NEW.action, NEW.actor_user_id, NEW.actor_role, NEW.subject_member_id,
          NEW.client_address, NEW.user_agent, NEW.request_id)
       IS NOT DISTINCT FROM (OLD.id, OLD.at, OLD.community_id, OLD.kind, OLD.resource_id, OLD.action, OLD.actor_user_id, OLD.actor_role,
          OLD.subject_member_id, OLD.client_address, OLD.user_agent, OLD.request_id)
     AND jsonb_typeof(NEW.diff) = 'array' AND jsonb_array_length(NEW.diff) = jsonb_array_length(OLD.diff)
     AND NOT EXISTS (
       SELECT 1 FROM jsonb_array_elements(OLD.diff) WITH ORDINALITY AS o(line, n)
       JOIN jsonb_array_elements(NEW.diff) WITH ORDINALITY AS r(line, n) USING (n)
       WHERE r.line - 'before' - 'after' IS DISTINCT FROM o.line - 'before' - 'after'
          OR (r.line->'before' IS DISTINCT FROM o.line->'before' AND r.line->'before' IS DISTINCT FROM to_jsonb('"[erased]"'::text))
          OR (r.line->'after' IS DISTINCT FROM o.line->'after' AND r.line->'after' IS DISTINCT FROM to_jsonb('"[erased]"'::text))
     ) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$;
