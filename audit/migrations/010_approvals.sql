-- Pending and past human approvals (owner: approvals). Unlike the audit events, these rows are
-- mutable summaries: the audit trail records every step, this table serves the Slack app and the
-- CLI (who may decide, what was posted where, which clicks were accepted).
CREATE TABLE IF NOT EXISTS approvals (
  approval_id      text PRIMARY KEY,              -- `<sessionId>:<proposalSeq>`
  session_id       text NOT NULL,
  workflow_id      text NOT NULL,
  agent_id         text NOT NULL,
  owner            text NOT NULL,
  intent           text NOT NULL,
  tool             text NOT NULL,
  reasoning        text NOT NULL,
  redacted_args    jsonb NOT NULL,                -- never the raw arguments
  blast_radius     bigint,
  decision         jsonb NOT NULL,
  requirement      jsonb NOT NULL,
  group_members    jsonb NOT NULL,
  call_digest      text NOT NULL,
  status           text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'cancelled')),
  decided_by       jsonb NOT NULL DEFAULT '[]'::jsonb,
  reason           text,
  decided_at       timestamptz,
  requested_at     timestamptz NOT NULL,
  deadline         timestamptz NOT NULL,
  escalation_level integer NOT NULL DEFAULT 0,
  escalated_at     timestamptz,
  slack_channel    text,                          -- the first post (level 0)
  slack_ts         text,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS approvals_pending_idx ON approvals (requested_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS approvals_session_idx ON approvals (session_id);

-- One Slack message per (approval, escalation level): a retried activity finds it and does not post again.
CREATE TABLE IF NOT EXISTS approval_posts (
  approval_id text NOT NULL REFERENCES approvals (approval_id) ON DELETE CASCADE,
  level       integer NOT NULL,
  channel     text NOT NULL,
  ts          text NOT NULL,
  posted_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (approval_id, level)
);

-- Clicks and CLI decisions accepted by approvals/decide.ts before the workflow is signalled.
-- One row per approver: the same person cannot be counted twice.
CREATE TABLE IF NOT EXISTS approval_votes (
  approval_id text NOT NULL REFERENCES approvals (approval_id) ON DELETE CASCADE,
  approver    text NOT NULL,
  approve     boolean NOT NULL,
  reason      text,
  via         text NOT NULL CHECK (via IN ('slack', 'cli')),
  click_id    text,
  at          timestamptz NOT NULL,
  PRIMARY KEY (approval_id, approver)
);
