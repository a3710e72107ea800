-- Disputes (issue 19): a member objects to one posting of their wallet (a trade, fee, balancing or
-- correction line, a top-up, a payout); a manager resolves it once, by rejecting it with a note or
-- by a correcting posting that refers to the disputed one. Nothing is edited in place: the disputed
-- posting stays, the correction is a posting of its own.
ALTER TABLE market_postings ADD COLUMN corrects integer;
ALTER TABLE market_postings ADD COLUMN dispute_id uuid;

CREATE TABLE market_disputes (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  member_id uuid NOT NULL,
  posting integer NOT NULL,
  reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
  opened_at timestamptz NOT NULL,
  outcome text CHECK (outcome IN ('rejected', 'corrected')),
  note text,
  resolved_at timestamptz,
  -- Corrected: the amount credited to the member (nano) and the posting that did it.
  amount numeric CHECK (amount > 0),
  correction integer,
  PRIMARY KEY (id, community_id),
  FOREIGN KEY (community_id, posting) REFERENCES market_postings (community_id, sequence),
  FOREIGN KEY (community_id, correction) REFERENCES market_postings (community_id, sequence),
  CHECK ((outcome IS NULL) = (resolved_at IS NULL) AND (outcome IS NULL) = (note IS NULL)),
  CHECK ((outcome IS NOT DISTINCT FROM 'corrected') = (amount IS NOT NULL) AND (amount IS NULL) = (correction IS NULL))
);
-- One open dispute per posting: a second objection waits for the first's resolution.
CREATE UNIQUE INDEX market_disputes_open ON market_disputes (community_id, posting) WHERE resolved_at IS NULL;
CREATE INDEX market_disputes_member ON market_disputes (community_id, member_id, opened_at);
CREATE INDEX market_disputes_community ON market_disputes (community_id, opened_at);
