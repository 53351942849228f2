-- A session start's agent credential, kept here under a random ticket by the gateway, so no workflow
-- history holds the bearer token: the start input names the ticket and the worker reads the
-- credential from here (`audit/start-tickets.ts`). A ticket serves its own session's start only, is
-- dropped once that start is answered, and expires in minutes.
CREATE TABLE IF NOT EXISTS start_tickets (
  ticket      text PRIMARY KEY,
  session_id  text NOT NULL,
  credential  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS start_tickets_created_idx ON start_tickets (created_at);
