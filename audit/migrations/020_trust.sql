-- Trust boundary: which run a session id belongs to (an id is never reused), and revoked agents.
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS first_run_id text;
ALTER TABLE approvals ADD COLUMN IF NOT EXISTS first_run_id text;

-- `gatehouse agents revoke <agentId>`: every credential of the agent issued before `revoked_at`
-- is refused; a credential issued afterwards (a deliberate re-issue) is not.
CREATE TABLE IF NOT EXISTS agent_revocations (
  agent_id   text PRIMARY KEY,
  revoked_at timestamptz NOT NULL,
  revoked_by text NOT NULL,
  reason     text
);
