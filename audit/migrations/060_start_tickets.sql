-- A session start's agent credential, kept here under a random ticket by the gateway, so no workflow
-- history holds the bearer token: the start input names the ticket and the worker reads the
-- credential from here (`audit/start-tickets.ts`). Tickets are short-lived; expired rows are dropped.
CREATE TABLE IF NOT EXISTS start_tickets (
  ticket      text PRIMARY KEY,
  credential  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS start_tickets_created_idx ON start_tickets (created_at);
