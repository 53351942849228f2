-- The policy document a session snapshotted, as the exact JSON text the worker wrote. `policy` is
-- jsonb, which reorders object keys (shorter first), and a document's meaning depends on the order
-- of its glob maps (`tools`, `upstreamTools`: the first matching glob wins). `json`, unlike jsonb,
-- keeps its input verbatim, so every reader that compiles the stored policy reads this column when
-- it is there (`STORED_POLICY` in `audit/queries.ts`). NULL for sessions started before.
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS policy_json json;
