-- The tools of upstream MCP servers as the worker last listed them, one row per server.
-- The worker publishes (it holds the upstreams' credentials); the gateway reads, to show them in
-- MCP `tools/list` without ever connecting to an upstream itself.
CREATE TABLE IF NOT EXISTS upstream_tools (
  server      text PRIMARY KEY,
  tools       jsonb NOT NULL DEFAULT '[]'::jsonb,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
