/**
 * A worker crash after a reservation reached the agent's ledger but before the session's history
 * recorded it: the worker (its own process, `worker/main.ts`) is killed with SIGKILL while the
 * reserved call is inside its handler. The new worker replays the workflow task, reserves again
 * under the same update id (the same reservation) and runs the call once. With an agent budget of
 * exactly the calls made, one double count would deny the last call. The same crash while a call
 * paid from a lease (a block of calls the ledger counted ahead) runs: the lease is the session's
 * recorded state, so the replayed call spends it once, and the ledger ends with exactly the calls made.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { seedSampleProduction } from '../../activities/tools/sample';
import { Gatehouse } from '../../client';
import { startWorkerProcess, type WorkerProcess } from '../../worker/devstack/worker-process';
import { ledgerQuery, ledgerWorkflowId } from '../../workflows/ledger-contract';
import { LEASE_HEADROOM } from '../../policies';
import { eventually } from '../support/eventually';
import { createTestDatabase, getTestServers, type TestDatabase } from '../support/servers';
import { testTrust, writeTestKeys } from '../support/trust';
import { TEST_POLICY, TEST_WRITES_DDL } from './fixtures/catalog';
import { workerBundleFile } from '../support/worker-bundle';

const MAX = 6;
let dir: string;
let audit: TestDatabase;
let production: TestDatabase;
let policyFile: string;
let keysFile: string;
const workers: WorkerProcess[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-cross-crash-'));
  audit = await createTestDatabase('wf_cross_crash_audit');
  production = await createTestDatabase('wf_cross_crash_prod');
  await seedSampleProduction(production.pool);
  await production.pool.query(TEST_WRITES_DDL);
  policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify({ ...TEST_POLICY, agent: { budgets: [{ tools: ['test.slowWrite'], max: MAX, windowMinutes: 60 }] } }));
  keysFile = writeTestKeys(join(dir, 'keys'));
  // The worker processes share it (inherited), as a deployment's do: the restarted one hands back leases the first took.
  process.env.GATEHOUSE_LEASE_SECRET = randomBytes(32).toString('hex');
});

after(async () => {
  for (const w of workers) await w.kill();
  await audit?.drop();
  await production?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function spawnWorker(address: string, taskQueue: string, policy = policyFile): Promise<WorkerProcess> {
  const connection = await Connection.connect({ address });
  try {
    const w = await startWorkerProcess({
      temporalAddress: address,
      namespace: 'default',
      taskQueue,
      databaseUrl: audit.url,
      productionDatabaseUrl: production.url,
      policyFile: policy,
      keysFile,
      catalogModule: join(__dirname, 'fixtures', 'catalog.ts'),
      workflowBundleFile: await workerBundleFile(dir),
      // One per worker process: the two tests spawn theirs at the same time.
      dataDir: join(dir, `worker-data-${taskQueue}-${randomBytes(3).toString('hex')}`),
      workflowService: connection.workflowService,
      timeoutMs: 60_000,
    });
    workers.push(w);
    return w;
  } finally {
    await connection.close();
  }
}

// The two tests mostly wait on the server's workflow task timeout (the dead worker's task), so they
// run at the same time: own task queue, agent, session, policy and worker processes each.
describe('cross-session ledger under a worker crash', { concurrency: 2 }, () => {
  it('SIGKILL while a reserved call runs: the retried reservation is the same one, counted once', async () => {
    const { temporalAddress } = await getTestServers();
    const taskQueue = `test-cross-crash-${randomBytes(4).toString('hex')}`;
    let worker = await spawnWorker(temporalAddress, taskQueue);
    const gh = await Gatehouse.connect({ address: temporalAddress, namespace: 'default', taskQueue, issuer: testTrust().operator });
    const agent = `crash-bot-${randomBytes(3).toString('hex')}`;
    try {
      const s = await gh.startSession({ agentId: agent, owner: 'eng-007', intent: 'write numbered rows to the staging config' });
      for (let n = 1; n <= MAX; n++) {
        if (n !== 3) {
          assert.equal((await s.propose({ tool: 'test.slowWrite', args: { n }, reasoning: `row ${n}` })).status, 'executed', `call ${n}`);
          continue;
        }
        const inFlight = s.propose({ tool: 'test.slowWrite', args: { n, sleepMs: 3000 }, reasoning: `row ${n}` });
        // The reservation is made before runTool writes the call's `decided` event and sleeps.
        await eventually(async () => ((await audit.pool.query("SELECT 1 FROM events WHERE session_id = $1 AND proposal_seq = 3 AND kind = 'decided'", [s.sessionId])).rowCount ?? 0) > 0, { what: 'call 3 in flight', timeoutMs: 60_000 });
        await worker.kill();
        worker = await spawnWorker(temporalAddress, taskQueue);
        assert.equal((await inFlight).status, 'executed');
      }
      // The budget is used up exactly: one more is denied.
      const over = await s.propose({ tool: 'test.slowWrite', args: { n: 99 }, reasoning: 'one more' });
      assert.equal(over.status, 'denied');
      assert.equal(over.decision.reasons[0]?.rule, 'agent.budget');
      const view = await gh.client.workflow.getHandle(ledgerWorkflowId('agent', agent)).query(ledgerQuery);
      assert.deepEqual(Object.values(view.budgets), [MAX]);
      const writes = await production.pool.query('SELECT n, count(*)::int AS c FROM test_writes WHERE idempotency_key LIKE $1 GROUP BY n ORDER BY n', [`${s.sessionId}:%`]);
      assert.deepEqual(writes.rows.map((r: { n: number; c: number }) => [r.n, r.c]), Array.from({ length: MAX }, (_, i) => [i + 1, 1]));
      await s.end({});
    } finally {
      await gh.close();
      await worker.stop();
    }
  });

  it('SIGKILL while a leased call runs: the lease is spent once, and handed back the ledger counts exactly the calls made', async () => {
    const { temporalAddress } = await getTestServers();
    const taskQueue = `test-lease-crash-${randomBytes(4).toString('hex')}`;
    // Room for a lease of 3: (max - 1) / LEASE_HEADROOM.
    const leasedPolicy = join(dir, 'leased-policy.json');
    writeFileSync(leasedPolicy, JSON.stringify({ ...TEST_POLICY, agent: { budgets: [{ tools: ['test.slowWrite'], max: 3 * LEASE_HEADROOM + 1, windowMinutes: 60 }] } }));
    let worker = await spawnWorker(temporalAddress, taskQueue, leasedPolicy);
    const gh = await Gatehouse.connect({ address: temporalAddress, namespace: 'default', taskQueue, issuer: testTrust().operator });
    const agent = `lease-bot-${randomBytes(3).toString('hex')}`;
    const ledger = () => gh.client.workflow.getHandle(ledgerWorkflowId('agent', agent)).query(ledgerQuery);
    try {
      const s = await gh.startSession({ agentId: agent, owner: 'eng-007', intent: 'write numbered rows to the staging config' });
      // Call 1 reserves and leases 3: four counted at once, one lease out.
      assert.equal((await s.propose({ tool: 'test.slowWrite', args: { n: 1 }, reasoning: 'row 1' })).status, 'executed');
      assert.deepEqual([Object.values((await ledger()).budgets), (await ledger()).leases], [[4], 1]);
      assert.equal((await s.propose({ tool: 'test.slowWrite', args: { n: 2 }, reasoning: 'row 2' })).status, 'executed');
      // Call 3 is paid from the lease; the worker dies inside its handler.
      const inFlight = s.propose({ tool: 'test.slowWrite', args: { n: 3, sleepMs: 3000 }, reasoning: 'row 3' });
      await eventually(async () => ((await audit.pool.query("SELECT 1 FROM events WHERE session_id = $1 AND proposal_seq = 3 AND kind = 'decided'", [s.sessionId])).rowCount ?? 0) > 0, { what: 'call 3 in flight', timeoutMs: 60_000 });
      await worker.kill();
      worker = await spawnWorker(temporalAddress, taskQueue, leasedPolicy);
      assert.equal((await inFlight).status, 'executed');
      // Call 4 spends the lease's last call; 5 reserves again, handing the spent lease back and taking another.
      for (const n of [4, 5]) assert.equal((await s.propose({ tool: 'test.slowWrite', args: { n }, reasoning: `row ${n}` })).status, 'executed', `call ${n}`);
      await s.end({});
      // Handed back at the end: exactly the five calls made, no lease out.
      assert.deepEqual([Object.values((await ledger()).budgets), (await ledger()).leases], [[5], 0]);
      const writes = await production.pool.query('SELECT n, count(*)::int AS c FROM test_writes WHERE idempotency_key LIKE $1 GROUP BY n ORDER BY n', [`${s.sessionId}:%`]);
      assert.deepEqual(writes.rows.map((r: { n: number; c: number }) => [r.n, r.c]), [1, 2, 3, 4, 5].map((n) => [n, 1]));
    } finally {
      await gh.close();
      await worker.stop();
    }
  });
});
