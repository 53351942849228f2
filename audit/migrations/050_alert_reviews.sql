-- Alert reviews (the console's alerts page): a person's verdict on one alert — "agent was right"
-- (the rule was overruled) or "the rule was right" — and a note. A chain of its own, like a
-- session's events: `seq` gap-free, hash = sha256(prev_hash || canonical JSON of the review), and
-- append-only by trigger (a verdict is changed by a later review, never by editing this one).
CREATE TABLE IF NOT EXISTS alert_reviews (
  seq         integer PRIMARY KEY CHECK (seq >= 1),
  alert_key   text NOT NULL,
  session_id  text NOT NULL,
  rule        text NOT NULL,
  alert_at    timestamptz NOT NULL,
  verdict     text NOT NULL CHECK (verdict IN ('agent-right', 'rule-right')),
  note        text NOT NULL,
  reviewer    text NOT NULL,
  key_id      text NOT NULL,
  at          timestamptz NOT NULL,
  prev_hash   text NOT NULL,
  hash        text NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_reviews_key_idx ON alert_reviews (alert_key, seq);

CREATE OR REPLACE FUNCTION gatehouse_alert_reviews_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'alert reviews are append-only: % on `alert_reviews` refused', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'record a new review instead';
END;
$$;

DROP TRIGGER IF EXISTS alert_reviews_append_only_row ON alert_reviews;
CREATE TRIGGER alert_reviews_append_only_row
  BEFORE UPDATE OR DELETE ON alert_reviews
  FOR EACH ROW EXECUTE FUNCTION gatehouse_alert_reviews_append_only();

DROP TRIGGER IF EXISTS alert_reviews_append_only_truncate ON alert_reviews;
CREATE TRIGGER alert_reviews_append_only_truncate
  BEFORE TRUNCATE ON alert_reviews
  FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_alert_reviews_append_only();
