-- Sessions: one row per agent session, the mutable summary of it. The events are the truth;
-- this row is what `gatehouse sessions` lists and what a trace starts from.
CREATE TABLE IF NOT EXISTS sessions (
  session_id         text PRIMARY KEY,
  workflow_id        text NOT NULL,
  agent_id           text NOT NULL,
  owner              text NOT NULL,
  intent             text NOT NULL,
  parent_session_id  text,
  policy_hash        text NOT NULL,
  -- The policy document the session snapshotted: evidence, and the baseline of a backtest.
  policy             jsonb NOT NULL,
  mode               text NOT NULL DEFAULT 'normal',
  final_state        text,
  flagged_for_review boolean NOT NULL DEFAULT false,
  counters           jsonb NOT NULL DEFAULT '{}'::jsonb,
  intent_score       double precision,
  started_at         timestamptz NOT NULL,
  ended_at           timestamptz
);

-- `gatehouse sessions` lists the newest first, optionally for one agent or owner.
CREATE INDEX IF NOT EXISTS sessions_started_at_idx ON sessions (started_at DESC);
CREATE INDEX IF NOT EXISTS sessions_agent_started_idx ON sessions (agent_id, started_at DESC);
CREATE INDEX IF NOT EXISTS sessions_owner_started_idx ON sessions (owner, started_at DESC);
CREATE INDEX IF NOT EXISTS sessions_parent_idx ON sessions (parent_session_id) WHERE parent_session_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS sessions_flagged_idx ON sessions (started_at DESC) WHERE flagged_for_review;
