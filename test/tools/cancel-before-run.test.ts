/**
 * A tool call Temporal cancels (or times out) while it waits for its key's lock never runs: it
 * heartbeats from its start, hears the cancellation in a heartbeat's answer, and checks it once the
 * lock is its own, before the handler. Real PostgreSQL; the activity context is the SDK's mock.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createToolActivities } from '../../activities/tools/activities';
import { createSampleCatalog, seedSampleProduction } from '../../activities/tools/sample';
import { eventually } from '../support/eventually';
import { createTestDatabase, type TestDatabase } from '../support/servers';

let production: TestDatabase;
before(async () => {
  production = await createTestDatabase('tools_cancel_before_run');
  await seedSampleProduction(production.pool);
});
after(async () => {
  await production?.drop();
});

test('cancelled while another attempt holds the key\'s lock: the handler never runs', async () => {
  const tools = createToolActivities({ catalog: createSampleCatalog({ productionPool: production.pool }), audit: { append: async () => undefined } });
  const key = 'cancelled:p1';
  // What a duplicate attempt still running looks like to this one: the key's lock taken.
  const holder = await production.pool.connect();
  await holder.query('BEGIN');
  await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7))', [key]);
  const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 600, isLocal: false });
  let beats = 0;
  env.on('heartbeat', () => void beats++);
  const run = env.run(tools.runTool, { sessionId: 'cancelled', proposalSeq: 1, tool: 'staging.writeConfig', args: { key: 'cancel.me', value: 'on' }, idempotencyKey: key, before: [], afterSeq: 2, at: new Date().toISOString() });
  await eventually(() => (beats >= 2 ? true : undefined), { what: 'heartbeats while the lock is held' });
  env.cancel();
  await holder.query('COMMIT');
  holder.release();
  await assert.rejects(run, (err: unknown) => err instanceof CancelledFailure);
  const rows = await production.pool.query("SELECT count(*)::int AS n FROM staging_config WHERE key = 'cancel.me'");
  assert.equal(rows.rows[0].n, 0);
  const ledger = await production.pool.query('SELECT count(*)::int AS n FROM tool_executions WHERE idempotency_key = $1', [key]);
  assert.equal(ledger.rows[0].n, 0);
});
