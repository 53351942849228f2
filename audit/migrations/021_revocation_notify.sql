-- Every change to the revocation list is announced on channel `gatehouse_revocations` (payload: the
-- agent id), whoever writes it, so a gateway's in-memory copy of the list follows within
-- milliseconds instead of reading the table on every request.
CREATE OR REPLACE FUNCTION gatehouse_notify_revocation() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('gatehouse_revocations', COALESCE(NEW.agent_id, OLD.agent_id));
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS agent_revocations_notify ON agent_revocations;
CREATE TRIGGER agent_revocations_notify
  AFTER INSERT OR UPDATE OR DELETE ON agent_revocations
  FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_revocation();
