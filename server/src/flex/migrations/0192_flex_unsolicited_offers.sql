-- Unsolicited FlexOffers (issue 18, UFTP 3.1): an offer a manager makes without a DSO's FlexRequest
-- answers none, so its request is null.
ALTER TABLE flex_offers ALTER COLUMN request_message_id DROP NOT NULL;
