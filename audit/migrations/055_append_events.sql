-- The group commit's one statement (audit/group-commit.ts): take each session's chain lock (class
-- `LOCK_CLASS`, keys in the caller's order: one global order, so no deadlock), then insert the rows
-- of every session whose guard holds: its predecessor (`first_seq - 1`; none when 0) is stored with
-- `prev_hash` and none of `first_seq..last_seq` is stored yet. Returns one session id per row
-- inserted. The caller commits right after it (one transaction, one round trip): the locks are held
-- until then.
--
-- A function, not a CTE in the flush's text: its plans are prepared once per connection instead of
-- parsed and planned on every flush (the group's rows and guards are its two JSON arguments). VOLATILE,
-- so under READ COMMITTED each statement in it takes a new snapshot: the guard, run after the
-- locks are held, sees every append committed by the lock's previous holder.
CREATE OR REPLACE FUNCTION gatehouse_append_events(lock_class int4, lock_keys int4[], guards json, rows json)
RETURNS SETOF text
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  -- unnest yields the keys in array order, so the locks are taken in that order.
  PERFORM pg_advisory_xact_lock(lock_class, k) FROM unnest(lock_keys) AS k;
  RETURN QUERY
  WITH g AS (
    SELECT * FROM json_to_recordset(guards) AS g(session_id text, first_seq int4, last_seq int4, prev_hash text)
  ),
  -- A scalar subquery runs once per guard, as one range scan of the (session_id, seq) index:
  -- unlike EXISTS, the planner cannot turn it into a join that reads the whole table.
  ok AS (
    SELECT g.session_id FROM g WHERE (
      SELECT count(*) FILTER (WHERE e.seq = g.first_seq - 1 AND e.hash = g.prev_hash) = CASE WHEN g.first_seq = 1 THEN 0 ELSE 1 END
         AND count(*) FILTER (WHERE e.seq >= g.first_seq) = 0
      FROM events e WHERE e.session_id = g.session_id AND e.seq BETWEEN g.first_seq - 1 AND g.last_seq)
  ),
  -- The columns of audit/rows.ts `EVENT_COLUMN_TYPES`, in its order.
  ins AS (
    INSERT INTO events (session_id, seq, kind, at, proposal_seq, tool, args, reasoning, decision, approval_id,
                        approver, latency_ms, token_cost, result_status, error, detail, prev_hash, hash)
    SELECT v.* FROM json_to_recordset(rows) AS v(
      session_id text, seq int4, kind text, at timestamptz, proposal_seq int4, tool text, args jsonb, reasoning text,
      decision jsonb, approval_id text, approver text, latency_ms float8, token_cost float8, result_status text,
      error text, detail jsonb, prev_hash text, hash text)
    WHERE v.session_id IN (SELECT ok.session_id FROM ok)
    ON CONFLICT (session_id, seq) DO NOTHING
    RETURNING events.session_id
  )
  SELECT ins.session_id FROM ins;
END;
$$;
