/**
 * The ledger table's DDL (`ensureLedger`, activities/tools/ledger.ts) on a table an older worker
 * created: the argument digest column is added once; on a table that has it, nothing is altered
 * (ALTER TABLE would lock the table against every running call, even with nothing to add).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { ensureLedger } from '../../activities/tools/ledger';
import { createTestDatabase, type TestDatabase } from '../support/servers';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('ledger_ddl');
});
after(async () => {
  await db?.drop();
});

test('an older ledger table gets the argument digest column; a current one is not altered', async () => {
  // The table as workers before the digest made it, with a row.
  await db.pool.query(`CREATE TABLE tool_executions (
    idempotency_key text PRIMARY KEY, tool text NOT NULL, session_id text, proposal_seq integer,
    status text NOT NULL CHECK (status IN ('executed', 'failed')), result jsonb, error jsonb,
    latency_ms integer NOT NULL DEFAULT 0, finished_at timestamptz NOT NULL DEFAULT now())`);
  await db.pool.query("INSERT INTO tool_executions (idempotency_key, tool, status) VALUES ('s:1', 'x.y', 'executed')");
  await ensureLedger(db.pool);
  const columns = await db.pool.query<{ column_name: string }>("SELECT column_name FROM information_schema.columns WHERE table_name = 'tool_executions' AND column_name = 'args_digest'");
  assert.equal(columns.rowCount, 1);
  assert.deepEqual((await db.pool.query('SELECT idempotency_key, args_digest FROM tool_executions')).rows, [{ idempotency_key: 's:1', args_digest: null }]);

  // With the column there, the DDL takes no lock that a running call's transaction would block.
  const call = await db.pool.connect();
  try {
    await call.query('BEGIN');
    await call.query('LOCK TABLE tool_executions IN ROW EXCLUSIVE MODE'); // what a call's INSERT holds
    const other = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      other.on('connect', (client) => void client.query('SET lock_timeout = 2000'));
      await ensureLedger(other);
    } finally {
      await other.end();
    }
  } finally {
    await call.query('ROLLBACK');
    call.release();
  }
});
