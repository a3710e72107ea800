-- Events whose consumers run later, where losing one would lose work: one row per event and
-- durable subscriber, written in the publisher's transaction (so it exists exactly when the
-- change that caused it was committed), delivered by the outbox job, removed in the
-- transaction that delivered it. A failed delivery is tried again after a growing delay; a row
-- whose payload no longer matches its event's declaration is refused and kept for inspection.
CREATE TABLE event_outbox (
  id bigserial PRIMARY KEY,
  event text NOT NULL,
  subscriber text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  refused_at timestamptz
);
CREATE INDEX event_outbox_due_idx ON event_outbox (next_attempt_at, id) WHERE refused_at IS NULL;
