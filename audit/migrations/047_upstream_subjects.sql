-- The resources, resource templates and prompts of upstream MCP servers, beside their tools (one row
-- per server), published by the worker for the gateway's `resources/list`, `resources/templates/list`
-- and `prompts/list`. Every change of a server's lists is announced on channel
-- `gatehouse_upstream_lists` (payload: the server's name), so a gateway tells its MCP sessions
-- `notifications/*/list_changed` at once.
ALTER TABLE upstream_tools ADD COLUMN IF NOT EXISTS resources jsonb NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE upstream_tools ADD COLUMN IF NOT EXISTS templates jsonb NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE upstream_tools ADD COLUMN IF NOT EXISTS prompts jsonb NOT NULL DEFAULT '[]'::jsonb;

CREATE OR REPLACE FUNCTION gatehouse_notify_upstream_lists() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' OR OLD.tools IS DISTINCT FROM NEW.tools OR OLD.resources IS DISTINCT FROM NEW.resources
     OR OLD.templates IS DISTINCT FROM NEW.templates OR OLD.prompts IS DISTINCT FROM NEW.prompts THEN
    PERFORM pg_notify('gatehouse_upstream_lists', NEW.server);
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS upstream_tools_notify ON upstream_tools;
CREATE TRIGGER upstream_tools_notify
  AFTER INSERT OR UPDATE ON upstream_tools
  FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_upstream_lists();
