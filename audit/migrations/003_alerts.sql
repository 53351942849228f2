-- Alerts raised during a session (intent deviation, budget exhaustion, escalations...).
-- `at` is workflow time, so a retried activity raising the same alert is a no-op.
CREATE TABLE IF NOT EXISTS alerts (
  id          bigserial PRIMARY KEY,
  session_id  text NOT NULL,
  kind        text NOT NULL,
  message     text NOT NULL,
  at          timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);

-- md5 of the message keeps the key small whatever the message length.
CREATE UNIQUE INDEX IF NOT EXISTS alerts_once_idx ON alerts (session_id, kind, at, md5(message));

CREATE INDEX IF NOT EXISTS alerts_session_at_idx ON alerts (session_id, at);
CREATE INDEX IF NOT EXISTS alerts_at_idx ON alerts (at DESC);
