-- Overdue invoices their member was reminded of (issue 21, "payment due"): the reminder job adds a
-- row when it tells the member, in the same transaction as the event, so each invoice is reminded
-- of once (two processes racing: the second insert finds the row and tells no one).
CREATE TABLE payment_reminders (
  invoice_id uuid NOT NULL,
  community_id uuid NOT NULL,
  reminded_at timestamptz NOT NULL,
  PRIMARY KEY (invoice_id, community_id),
  FOREIGN KEY (invoice_id, community_id) REFERENCES invoices (id, community_id) ON DELETE CASCADE
);
