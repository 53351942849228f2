/**
 * The runtime database role against a real PostgreSQL: it writes and reads the trail through the
 * stores, and cannot rewrite, delete, truncate or un-protect it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { AuditStore } from '../../audit/store';
import { migrate } from '../../audit/migrate';
import { ensureRuntimeRole, runtimeDatabaseUrl, runtimeRoleSql } from '../../audit/roles';
import { readEvents } from '../../audit/queries';
import { verifyDatabase } from '../../audit/verify';
import { ApprovalStore } from '../../approvals/store';
import { approvalRequest } from '../approvals/fixtures';
import { createTestDatabase, getTestServers, type TestDatabase } from '../support/servers';
import { incidentSession } from './fixtures';
import { testTrust } from '../support/trust';

const { keyset } = testTrust();

let db: TestDatabase;
let runtime: pg.Pool;
const role = `gh_rt_${randomBytes(4).toString('hex')}`;
const password = randomBytes(12).toString('hex');

before(async () => {
  db = await createTestDatabase('audit_roles');
  await ensureRuntimeRole(db.pool, { role, password });
  await ensureRuntimeRole(db.pool, { role, password }); // idempotent
  runtime = new pg.Pool({ connectionString: runtimeDatabaseUrl(db.url, role, password), max: 4 });
});
after(async () => {
  await runtime?.end().catch(() => undefined);
  await db?.drop();
  const { postgres } = await getTestServers();
  const admin = new pg.Client({ connectionString: postgres.adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
  } finally {
    await admin.end();
  }
});

/** The SQLSTATE a statement run as the runtime role fails with. */
async function refusal(sql: string): Promise<string> {
  const err = await runtime.query(sql).then(() => undefined, (e: unknown) => e as { code?: string; message: string });
  assert.ok(err, `\`${sql}\` was allowed`);
  return err.code ?? err.message;
}

describe('runtime role', () => {
  test('writes and reads the trail, sessions and approvals through the stores', async () => {
    const store = new AuditStore(runtime);
    const s = incidentSession('rt-1', '2026-11-01T10:00:00Z');
    await store.startSession(s.record);
    assert.deepEqual(await store.append(s.events), { inserted: s.events.length, duplicates: 0 });
    await store.patchSession('rt-1', { mode: 'closed', counters: { proposals: 3 } });
    await store.raiseAlert('rt-1', 'test', 'raised by the runtime role', '2026-11-01T10:05:00Z');
    assert.equal((await readEvents(runtime, 'rt-1')).length, s.events.length);
    assert.equal((await verifyDatabase(runtime, { sessionId: 'rt-1', keyset })).ok, true);

    const approvals = new ApprovalStore(runtime);
    const req = approvalRequest('session-rt-2', { firstRunId: 'run-1' });
    await approvals.insert(req);
    await approvals.recordPost(req.approvalId, { level: 0, channel: 'C1', ts: '1.1' });
    await approvals.withLock(req.approvalId, ({ addVote }) => addVote({ approver: 'bob', approve: true, via: 'cli', at: new Date().toISOString() }));
    await approvals.resolve({ approvalId: req.approvalId, status: 'approved', decidedBy: ['bob'], at: new Date().toISOString() });
    assert.equal((await approvals.get(req.approvalId))?.status, 'approved');
    assert.equal((await runtime.query('SELECT count(*)::int AS n FROM agent_revocations')).rows[0].n, 0);
    assert.deepEqual(await migrate(runtime), [], 'an up-to-date schema is checked without DDL');
  });

  test('cannot UPDATE, DELETE or TRUNCATE the events and alerts, nor disable the trigger', async () => {
    const denied = '42501'; // insufficient_privilege
    assert.equal(await refusal(`UPDATE events SET reasoning = 'rewritten' WHERE session_id = 'rt-1'`), denied);
    assert.equal(await refusal(`DELETE FROM events WHERE session_id = 'rt-1'`), denied);
    assert.equal(await refusal('TRUNCATE events'), denied);
    assert.equal(await refusal('ALTER TABLE events DISABLE TRIGGER events_append_only_row'), denied);
    assert.equal(await refusal('ALTER TABLE events DISABLE TRIGGER ALL'), denied);
    assert.equal(await refusal('DROP TRIGGER events_append_only_row ON events'), denied);
    assert.equal(await refusal('SET session_replication_role = replica'), denied);
    assert.equal(await refusal('DROP TABLE events'), denied);
    assert.equal(await refusal(`UPDATE alerts SET message = 'quiet' WHERE session_id = 'rt-1'`), denied);
    assert.equal(await refusal(`DELETE FROM alerts WHERE session_id = 'rt-1'`), denied);
    assert.equal(await refusal('TRUNCATE alerts'), denied);
    assert.equal(await refusal(`DELETE FROM agent_revocations`), denied);
    assert.equal(await refusal(`INSERT INTO agent_revocations (agent_id, revoked_at, revoked_by) VALUES ('x', now(), 'y')`), denied);
    assert.equal(await refusal('CREATE TABLE shadow_events (id int)'), denied);
    // The session row's identity, policy and catalog decide what `audit verify` expects of the trail.
    assert.equal(await refusal(`UPDATE sessions SET tools = '[]'::jsonb WHERE session_id = 'rt-1'`), denied);
    assert.equal(await refusal(`UPDATE sessions SET policy = '{}'::jsonb, policy_hash = 'x' WHERE session_id = 'rt-1'`), denied);
    assert.equal(await refusal(`UPDATE sessions SET agent_id = 'someone-else' WHERE session_id = 'rt-1'`), denied);
    assert.equal(await refusal(`DELETE FROM sessions WHERE session_id = 'rt-1'`), denied);
    // Every row is still there, unchanged.
    assert.equal((await verifyDatabase(db.pool, { sessionId: 'rt-1', keyset })).ok, true);
    assert.equal((await db.pool.query(`SELECT count(*)::int AS n FROM alerts WHERE session_id = 'rt-1'`)).rows[0].n, 1);
  });

  test('the statements for a deployment refuse a bad role name and quote the password', () => {
    assert.throws(() => runtimeRoleSql('gatehouse', { role: 'x; DROP TABLE events', password: 'p' }), /invalid runtime role name/);
    const sql = runtimeRoleSql('gatehouse', { password: "it's" }).join(';\n');
    assert.match(sql, /PASSWORD 'it''s'/);
    assert.match(sql, /GRANT SELECT, INSERT ON events TO gatehouse_runtime/);
    assert.ok(!/GRANT[^;]*(UPDATE|DELETE|TRUNCATE)[^;]* ON (events|alerts) /.test(sql));
  });
});
