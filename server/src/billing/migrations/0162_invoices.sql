-- Invoices (issue 21): what an invoice names besides the statement, the numbers, and the
-- issued invoices themselves.

-- The community as the seller on its invoices. Without a row the community issues statements
-- only; with one, closing a month issues an invoice per statement.
CREATE TABLE billing_profiles (
  community_id uuid PRIMARY KEY REFERENCES communities (id) ON DELETE CASCADE,
  legal_name text NOT NULL,
  street text NOT NULL,
  postal_code text NOT NULL,
  city text NOT NULL,
  country char(2) NOT NULL,
  registration_number text,
  vat_country char(2) NOT NULL,
  vat_regime text NOT NULL CHECK (vat_regime IN ('registered', 'small-business', 'not-registered')),
  vat_id text,
  -- Percent per tariff component where it differs from the country's standard rate.
  vat_rates jsonb NOT NULL DEFAULT '{}',
  iban text NOT NULL,
  bic text,
  account_holder text,
  -- SEPA creditor identifier: needed for direct debits only.
  creditor_id text,
  invoice_prefix text NOT NULL,
  payment_term_days integer NOT NULL CHECK (payment_term_days BETWEEN 0 AND 365),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- A member as the buyer: the name and address invoices are made out to, and their VAT status
-- (which decides how their sales to the community are taxed).
CREATE TABLE billing_details (
  member_id uuid NOT NULL REFERENCES members (id) ON DELETE CASCADE,
  community_id uuid NOT NULL,
  full_name text NOT NULL,
  street text NOT NULL,
  postal_code text NOT NULL,
  city text NOT NULL,
  country char(2) NOT NULL,
  vat_regime text NOT NULL CHECK (vat_regime IN ('private', 'small-business', 'registered')),
  vat_id text,
  reverse_charge boolean NOT NULL DEFAULT false,
  -- Where credits (a producer's sales) are paid when there is no mandate's account.
  iban text,
  bic text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (member_id, community_id)
);

-- A member's SEPA direct-debit mandate (one in force per member); its id is unique in the community.
CREATE TABLE sepa_mandates (
  member_id uuid NOT NULL REFERENCES members (id) ON DELETE CASCADE,
  community_id uuid NOT NULL,
  mandate_id text NOT NULL,
  signed_on date NOT NULL,
  iban text NOT NULL,
  bic text,
  account_holder text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (member_id, community_id),
  UNIQUE (community_id, mandate_id)
);

-- The last number of a community's series per year; taken with UPDATE … RETURNING in the closing
-- transaction, so concurrent closings queue on the row and a rolled-back one loses no number.
CREATE TABLE invoice_counters (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  year integer NOT NULL CHECK (year BETWEEN 2000 AND 9999),
  last integer NOT NULL CHECK (last >= 0),
  PRIMARY KEY (community_id, year)
);

-- An issued invoice: the number, the facts as they were and the rendered document model. Never
-- changed; a correction is a new invoice that names the one it corrects.
CREATE TABLE invoices (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  community_id uuid NOT NULL,
  statement_id uuid NOT NULL,
  member_id uuid NOT NULL,
  number text NOT NULL,
  year integer NOT NULL,
  sequence integer NOT NULL CHECK (sequence >= 1),
  corrects uuid,
  currency char(3) NOT NULL,
  gross text NOT NULL,
  document jsonb NOT NULL,
  issued_at timestamptz NOT NULL DEFAULT now(),
  -- Keys and references carry community_id: the table can be distributed by community (see the README).
  PRIMARY KEY (id, community_id),
  UNIQUE (statement_id, community_id),
  FOREIGN KEY (statement_id, community_id) REFERENCES statements (id, community_id) ON DELETE CASCADE,
  FOREIGN KEY (corrects, community_id) REFERENCES invoices (id, community_id) ON DELETE CASCADE,
  UNIQUE (community_id, number),
  UNIQUE (community_id, year, sequence)
);
CREATE INDEX invoices_member_idx ON invoices (member_id, issued_at);

CREATE FUNCTION invoices_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    RAISE EXCEPTION 'invoices are never changed (invoice %)', OLD.number USING ERRCODE = 'check_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM communities WHERE id = OLD.community_id) THEN
    RAISE EXCEPTION 'invoice % is issued and cannot be removed', OLD.number USING ERRCODE = 'check_violation';
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER invoices_immutable BEFORE UPDATE OR DELETE ON invoices FOR EACH ROW EXECUTE FUNCTION invoices_immutable();
