-- Whether an invoice was paid (issue 21), as a history: each change of its status, set by hand
-- or read from a bank statement (camt.053), is a row of its own and the newest row is the
-- invoice's status now; an invoice without rows is open. Rows are never changed.
CREATE TABLE invoice_payments (
  id bigint GENERATED ALWAYS AS IDENTITY,
  invoice_id uuid NOT NULL,
  community_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('open', 'paid', 'partial', 'failed')),
  -- What arrived from the member (or was paid out to them), positive, exact, in the invoice's currency.
  settled text NOT NULL,
  reason text,
  source text NOT NULL CHECK (source IN ('manual', 'camt053')),
  booking_date date,
  -- No foreign key: removing the user must not remove the history.
  recorded_by uuid,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, community_id),
  FOREIGN KEY (invoice_id, community_id) REFERENCES invoices (id, community_id) ON DELETE CASCADE
);
CREATE INDEX invoice_payments_invoice_idx ON invoice_payments (invoice_id, id);

CREATE FUNCTION invoice_payments_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    RAISE EXCEPTION 'payment history is never changed' USING ERRCODE = 'check_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM communities WHERE id = OLD.community_id) THEN
    RAISE EXCEPTION 'payment history is never removed' USING ERRCODE = 'check_violation';
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER invoice_payments_append_only BEFORE UPDATE OR DELETE ON invoice_payments FOR EACH ROW EXECUTE FUNCTION invoice_payments_append_only();
