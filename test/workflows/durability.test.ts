/**
 * Durability against a real Temporal server (its own, on a SQLite file so it can restart) with the
 * worker in a separate process: SIGKILL of the worker while call 35 of 50 is in flight, a server
 * restart mid-session. Exactly 50 executions must be recorded in the production database.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { seedSampleProduction } from '../../activities/tools/sample';
import { Gatehouse, type SessionHandle } from '../../client';
import { findTemporalCli } from '../../worker/devstack/temporal-binary';
import { startTemporalDevServer, type TemporalDevServer } from '../../worker/devstack/temporal-server';
import { createTestDatabase, type TestDatabase } from '../support/servers';
import { TEST_POLICY, TEST_WRITES_DDL } from './fixtures/catalog';
import { startWorkerProcess, type WorkerProcess } from './worker-process';
import { testTrust, writeTestKeys } from '../support/trust';

const INTENT = 'write numbered rows to the staging config';
let dir: string;
let server: TemporalDevServer;
let cliPath: string;
let port: number;
let audit: TestDatabase;
let production: TestDatabase;
let policyFile: string;
let keysFile: string;
const workers: WorkerProcess[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-durability-'));
  cliPath = await findTemporalCli();
  server = await startTemporalDevServer({ cliPath, dbFilename: join(dir, 'temporal.db'), uiPort: false });
  port = Number(server.address.split(':').pop());
  audit = await createTestDatabase('wf_dur_audit');
  production = await createTestDatabase('wf_dur_prod');
  await seedSampleProduction(production.pool);
  await production.pool.query(TEST_WRITES_DDL);
  policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(TEST_POLICY));
  keysFile = writeTestKeys(join(dir, 'keys'));
});

after(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  await server?.stop();
  await audit?.drop();
  await production?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function spawnWorker(taskQueue: string): Promise<WorkerProcess> {
  return startWorkerProcess({
    temporalAddress: server.address,
    namespace: 'default',
    taskQueue,
    databaseUrl: audit.url,
    productionDatabaseUrl: production.url,
    policyFile,
    keysFile,
    catalogModule: join(__dirname, 'fixtures', 'catalog.ts'),
  }).then((w) => {
    workers.push(w);
    return w;
  });
}

async function writesOf(sessionId: string): Promise<{ n: number; count: number }[]> {
  const r = await production.pool.query('SELECT n, count(*)::int AS count FROM test_writes WHERE idempotency_key LIKE $1 GROUP BY n ORDER BY n', [`${sessionId}:%`]);
  return r.rows as { n: number; count: number }[];
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('durability', () => {
  for (const tool of ['test.slowWrite', 'test.slowWriteActivity']) it(`step 35 of 50 (${tool === 'test.slowWrite' ? 'local activity' : 'regular activity'}): SIGKILL of the worker mid-call, a new worker, exactly 50 executions`, async () => {
    const taskQueue = `test-durability-${randomBytes(4).toString('hex')}`;
    let worker = await spawnWorker(taskQueue);
    const gh = await Gatehouse.connect({ address: server.address, namespace: 'default', taskQueue, issuer: testTrust().operator });
    try {
      const s = await gh.startSession({ agentId: 'scripted-agent', owner: 'eng-007', intent: INTENT, historyLimit: 400 });
      for (let n = 1; n <= 50; n++) {
        if (n !== 35) {
          const r = await s.propose({ tool, args: { n }, reasoning: `row ${n}` });
          assert.equal(r.status, 'executed', `call ${n}`);
          continue;
        }
        const inFlight = s.propose({ tool, args: { n, sleepMs: 3000 }, reasoning: `row ${n}` });
        // The write-ahead `decided` event of call 35 is written by runTool just before its handler sleeps.
        await waitFor('call 35 in flight', async () => {
          const r = await audit.pool.query("SELECT 1 FROM events WHERE session_id = $1 AND proposal_seq = 35 AND kind = 'decided'", [s.sessionId]);
          return (r.rowCount ?? 0) > 0;
        });
        await worker.kill('SIGKILL');
        assert.deepEqual((await writesOf(s.sessionId)).length, 34, 'call 35 had not written yet when the worker died');
        worker = await spawnWorker(taskQueue);
        const r = await inFlight;
        assert.equal(r.status, 'executed');
        assert.equal(r.sequence, 35);
      }
      const summary = await s.end({ reason: 'done' });
      assert.equal(summary.counters.executed, 50);
      const writes = await writesOf(s.sessionId);
      assert.equal(writes.length, 50, 'every call ran');
      assert.deepEqual(writes.filter((w) => w.count !== 1), [], 'no call ran twice');
      const executed = await audit.pool.query("SELECT count(*)::int AS n FROM events WHERE session_id = $1 AND kind = 'executed'", [s.sessionId]);
      assert.equal(executed.rows[0]?.n, 50);
    } finally {
      await gh.close();
      await worker.kill('SIGTERM');
    }
  });

  it('the Temporal server restarts on the same SQLite file mid-session; the session goes on', async () => {
    const taskQueue = `test-durability-${randomBytes(4).toString('hex')}`;
    const worker = await spawnWorker(taskQueue);
    let gh = await Gatehouse.connect({ address: server.address, namespace: 'default', taskQueue, issuer: testTrust().operator });
    try {
      const s: SessionHandle = await gh.startSession({ agentId: 'restart-agent', owner: 'eng-007', intent: INTENT });
      for (let n = 1; n <= 5; n++) assert.equal((await s.propose({ tool: 'test.slowWrite', args: { n }, reasoning: 'row' })).status, 'executed');
      await gh.close();
      await server.stop();
      server = await startTemporalDevServer({ cliPath, dbFilename: join(dir, 'temporal.db'), uiPort: false, port });
      gh = await Gatehouse.connect({ address: server.address, namespace: 'default', taskQueue, issuer: testTrust().operator });
      const again = gh.session(s.sessionId);
      for (let n = 6; n <= 10; n++) assert.equal((await again.propose({ tool: 'test.slowWrite', args: { n }, reasoning: 'row' })).status, 'executed');
      const summary = await again.end({});
      assert.equal(summary.counters.executed, 10);
      const writes = await writesOf(s.sessionId);
      assert.deepEqual(writes.map((w) => [w.n, w.count]), Array.from({ length: 10 }, (_, i) => [i + 1, 1]));
    } finally {
      await gh.close();
      await worker.kill('SIGTERM');
    }
  });
});
