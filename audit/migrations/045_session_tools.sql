-- The tool catalog a session snapshotted (name, effect, environment, resource, upstream hints):
-- with the policy document beside it, `audit verify` re-derives each executed call's tier from
-- the session's own record instead of believing the trail. NULL for sessions started before.
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS tools jsonb;
