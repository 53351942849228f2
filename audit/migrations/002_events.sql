-- Events: the append-only, hash-chained audit trail. `seq` is assigned by the session workflow
-- (gap-free per session), so (session_id, seq) is the identity that makes retried writes no-ops.
CREATE TABLE IF NOT EXISTS events (
  id            bigserial PRIMARY KEY,
  session_id    text NOT NULL,
  seq           integer NOT NULL CHECK (seq >= 1),
  kind          text NOT NULL,
  at            timestamptz NOT NULL,
  proposal_seq  integer,
  tool          text,
  -- Arguments with the tool's sensitive fields already redacted by the catalog.
  args          jsonb,
  reasoning     text,
  -- The full Decision: verdict, tier, reasons with rule ids, policy hash, approval requirement.
  decision      jsonb,
  approval_id   text,
  approver      text,
  latency_ms    double precision,
  token_cost    double precision,
  result_status text,
  error         text,
  detail        jsonb,
  -- sha256(prev_hash || canonicalJson(event)); the first event of a session chains from 64 zeros.
  prev_hash     text NOT NULL,
  hash          text NOT NULL,
  -- When the row reached the database (not part of the chain: the workflow's `at` is).
  recorded_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT events_session_seq_key UNIQUE (session_id, seq)
);

-- Traces and verification read by (session_id, seq) (the unique key above); backtests select
-- proposals by time; approvals are looked up by id. Partial indexes: every index is paid for on
-- each of the many inserts, so each one covers only the rows its query reads.
CREATE INDEX IF NOT EXISTS events_proposed_at_idx ON events (at) WHERE kind = 'proposed';
CREATE INDEX IF NOT EXISTS events_approval_idx ON events (approval_id) WHERE approval_id IS NOT NULL;

-- Append-only: any UPDATE, DELETE or TRUNCATE of the trail is refused, whoever asks.
CREATE OR REPLACE FUNCTION gatehouse_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit events are append-only: % on `events` refused', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'the audit trail is tamper-evident; record a new event instead';
END;
$$;

DROP TRIGGER IF EXISTS events_append_only_row ON events;
CREATE TRIGGER events_append_only_row
  BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION gatehouse_events_append_only();

DROP TRIGGER IF EXISTS events_append_only_truncate ON events;
CREATE TRIGGER events_append_only_truncate
  BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_events_append_only();
