-- Erasure and retention of billing records (issue 20, privacy).
--
-- A SEPA mandate of an erased member is evidence for a refund claim (SEPA Core rulebook: 8 weeks
-- after an authorised collection, 13 months after an unauthorised one). It is then kept
-- restricted (Art. 18 GDPR): never used for a collection again, never shown, until
-- `restricted_until`, when the retention job deletes it. A mandate in force has none.
ALTER TABLE sepa_mandates ADD COLUMN restricted_until timestamptz;

-- The end of the retention period of issued billing records. A transaction that ends a
-- community's retention declares it, and only it, with
--   SELECT set_config('gridshare.billing_records_cutoff', '<community id>@<cutoff, ISO 8601>', true)
-- (transaction-local, billing's `deleteBillingRecordsBefore`). The triggers below then let exactly
-- the deletion of that community's closed settlements, statements, invoices and payment history
-- stamped before the cutoff through; any other change or deletion is refused as before.
CREATE FUNCTION billing_records_deletable(community uuid, stamp timestamptz) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
DECLARE
  declared text := current_setting('gridshare.billing_records_cutoff', true);
BEGIN
  IF declared IS NULL OR declared = '' OR stamp IS NULL THEN RETURN false; END IF;
  RETURN split_part(declared, '@', 1) = community::text AND stamp < split_part(declared, '@', 2)::timestamptz;
END $$;

CREATE OR REPLACE FUNCTION settlements_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.state = 'closed' THEN
    RAISE EXCEPTION 'settlement % is closed and cannot change', OLD.id USING ERRCODE = 'check_violation';
  END IF;
  IF TG_OP = 'DELETE' AND OLD.state = 'closed' AND EXISTS (SELECT 1 FROM communities WHERE id = OLD.community_id)
     AND NOT billing_records_deletable(OLD.community_id, OLD.closed_at) THEN
    RAISE EXCEPTION 'settlement % is closed and cannot be removed', OLD.id USING ERRCODE = 'check_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;

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
       AND EXISTS (SELECT 1 FROM communities WHERE id = OLD.community_id)
       AND NOT billing_records_deletable(OLD.community_id, OLD.created_at) THEN
      RAISE EXCEPTION 'statement % belongs to a closed settlement', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN OLD;
  END IF;
  IF NEW.kind = 'statement' AND EXISTS (SELECT 1 FROM settlements WHERE id = NEW.settlement_id AND state = 'closed') THEN
    RAISE EXCEPTION 'a closed settlement only takes corrections' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION invoices_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    RAISE EXCEPTION 'invoices are never changed (invoice %)', OLD.number USING ERRCODE = 'check_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM communities WHERE id = OLD.community_id) AND NOT billing_records_deletable(OLD.community_id, OLD.issued_at) THEN
    RAISE EXCEPTION 'invoice % is issued and cannot be removed', OLD.number USING ERRCODE = 'check_violation';
  END IF;
  RETURN OLD;
END $$;

CREATE OR REPLACE FUNCTION invoice_payments_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    RAISE EXCEPTION 'payment history is never changed' USING ERRCODE = 'check_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM communities WHERE id = OLD.community_id) AND NOT billing_records_deletable(OLD.community_id, OLD.recorded_at) THEN
    RAISE EXCEPTION 'payment history is never removed' USING ERRCODE = 'check_violation';
  END IF;
  RETURN OLD;
END $$;
