/**
 * Durability against a real Temporal server (its own, on a SQLite file so it can restart) with the
 * worker in a separate process: SIGKILL of the worker while call 35 of 50 is in flight, a server
 * restart mid-session. Exactly 50 executions must be recorded in the production database (the
 * tool's own rows and the `tool_executions` ledger) and in the audit trail, none twice. (The
 * `gatehouse demo resume` scenario shows the same crash to a person; this is where it is tested.)
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
import { Connection } from '@temporalio/client';
import { startWorkerProcess, type WorkerProcess } from '../../worker/devstack/worker-process';
import { eventually } from '../support/eventually';
import { testTrust, writeTestKeys } from '../support/trust';
import { workerBundleFile } from '../support/worker-bundle';

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
  for (const w of workers) await w.kill();
  await server?.stop();
  await audit?.drop();
  await production?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function spawnWorker(taskQueue: string): Promise<WorkerProcess> {
  const connection = await Connection.connect({ address: server.address });
  try {
    const w = await startWorkerProcess({
      temporalAddress: server.address,
      namespace: 'default',
      taskQueue,
      databaseUrl: audit.url,
      productionDatabaseUrl: production.url,
      policyFile,
      keysFile,
      catalogModule: join(__dirname, 'fixtures', 'catalog.ts'),
      workflowBundleFile: await workerBundleFile(dir),
      // Not a running stack's: the worker must not find one and use its settings. One per queue:
      // the two crash tests run at the same time.
      dataDir: join(dir, `worker-data-${taskQueue}`),
      workflowService: connection.workflowService,
      timeoutMs: 60_000,
    });
    workers.push(w);
    return w;
  } finally {
    await connection.close();
  }
}

async function writesOf(sessionId: string): Promise<{ n: number; count: number }[]> {
  const r = await production.pool.query('SELECT n, count(*)::int AS count FROM test_writes WHERE idempotency_key LIKE $1 GROUP BY n ORDER BY n', [`${sessionId}:%`]);
  return r.rows as { n: number; count: number }[];
}

/** The `tool_executions` ledger of a session: executed rows, distinct idempotency keys, distinct steps. */
async function ledgerOf(sessionId: string): Promise<{ rows: number; keys: number; seqs: number }> {
  const r = await production.pool.query(
    "SELECT count(*)::int AS rows, count(DISTINCT idempotency_key)::int AS keys, count(DISTINCT proposal_seq)::int AS seqs FROM tool_executions WHERE session_id = $1 AND status = 'executed'",
    [sessionId],
  );
  return r.rows[0] as { rows: number; keys: number; seqs: number };
}

describe('durability', () => {
  // The two crash tests mostly wait on the server's timeouts (the dead worker's workflow task, the
  // activity's heartbeat), so they run at the same time: own task queue, session, worker processes
  // and data folder each; every query below is by session. The restart test comes after both.
  describe('a worker SIGKILLed at step 35 of 50', { concurrency: 2 }, () => {
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
          await eventually(
            async () => {
              const r = await audit.pool.query("SELECT 1 FROM events WHERE session_id = $1 AND proposal_seq = 35 AND kind = 'decided'", [s.sessionId]);
              return (r.rowCount ?? 0) > 0;
            },
            { what: 'call 35 in flight', timeoutMs: 60_000 },
          );
          await worker.kill();
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
        assert.deepEqual(await ledgerOf(s.sessionId), { rows: 50, keys: 50, seqs: 50 }, 'the ledger: one executed row per step');
        const executed = await audit.pool.query("SELECT count(*)::int AS n, count(DISTINCT proposal_seq)::int AS d FROM events WHERE session_id = $1 AND kind = 'executed'", [s.sessionId]);
        assert.deepEqual(executed.rows[0], { n: 50, d: 50 }, 'the audit trail: one executed event per step');
      } finally {
        await gh.close();
        await worker.stop();
      }
    });
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
      await worker.stop();
    }
  });
});
