-- notifications (issue 21, phase 2): what people are told in the app and by email, and what each
-- chose to get. An event a capability publishes becomes at most one in-app notification per
-- person (`dedupe_key`: the event's own identity, so a replayed event adds nothing) and, where the
-- person wants email, one delivery in the log; the sender job leases deliveries that are due
-- (job_leases, unit delivery:<id>), sends them and records each attempt.
CREATE TABLE notifications (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  event text NOT NULL,
  -- The message's values (names, periods, amounts as exact decimals), rendered by the reader's app.
  params jsonb NOT NULL,
  -- Where the app opens it (a path of the web app).
  link text,
  dedupe_key text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  read_at timestamptz,
  PRIMARY KEY (community_id, id),
  UNIQUE (community_id, user_id, dedupe_key)
);
CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC);
CREATE INDEX notifications_id_idx ON notifications (id);

-- What a person chose; an event and channel without a row is on. Per account, whichever community.
CREATE TABLE notification_preferences (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  event text NOT NULL,
  channel text NOT NULL CHECK (channel IN ('email', 'in-app')),
  enabled boolean NOT NULL,
  PRIMARY KEY (user_id, event, channel)
);

-- The delivery log: one email to one person, from queued to sent or failed (never the body: a
-- delivery is rendered again from `params` when it is sent, so a link's secret is never stored).
CREATE TABLE deliveries (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id uuid REFERENCES users (id) ON DELETE SET NULL,
  event text NOT NULL,
  -- The recipient as rendered: name, email, locale, time zone, role.
  recipient jsonb NOT NULL,
  params jsonb NOT NULL,
  -- A statement whose PDF is attached when the email is sent.
  statement_id uuid,
  -- What queued it: an event's identity, or a bulk send (`statements:<settlement id>`).
  dedupe_key text NOT NULL,
  batch text,
  language text NOT NULL,
  subject text NOT NULL,
  state text NOT NULL CHECK (state IN ('queued', 'sent', 'retrying', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  queued_at timestamptz NOT NULL,
  next_attempt_at timestamptz,
  sent_at timestamptz,
  last_response text,
  message_id text,
  PRIMARY KEY (community_id, id),
  UNIQUE (community_id, dedupe_key)
);
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE state IN ('queued', 'retrying');
CREATE INDEX deliveries_batch_idx ON deliveries (community_id, batch, queued_at) WHERE batch IS NOT NULL;
CREATE INDEX deliveries_log_idx ON deliveries (community_id, queued_at DESC);
CREATE INDEX deliveries_id_idx ON deliveries (id);
