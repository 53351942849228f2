/**
 * A workflow task retried under overload (BENCHMARKS, "lost sessions at 1,000"): a worker that
 * stops answering after a call's write-ahead events committed (SIGSTOP, a short workflow task
 * timeout) leaves the task timing out and being retried, and while it is retried the server refuses
 * every update ("Workflow Task in failed state"). The agent's proposals then must wait, not be
 * lost: a refused proposal the client gave up on left its first attempt's events ahead of the
 * session's next record, which then conflicted with them and ended the session. The session
 * finishes, each call runs once, its trail verifies, no event twice or missing, no alert.
 *
 * The worker, woken, still holds its copy of the run, which had handled the update already; handed
 * the same update again with the retried task, that copy handled it under the next number: the tool
 * ran a second time (its ledger key was the number) and the copy's events took the session's next
 * seqs, so the session's next record conflicted with them (1 run in 2–4 before the fix). Now a run
 * fails the task of an update it has handled (the run is replayed from its history), and a proposal
 * without a key of its own is keyed in the ledger by its update id.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { seedSampleProduction } from '../../activities/tools/sample';
import { Gatehouse } from '../../client';
import { isWorkflowNotReady } from '../../client/update-retry';
import { verifyDatabase } from '../../audit/verify';
import { startWorkerProcess, type WorkerProcess } from '../../worker/devstack/worker-process';
import { SESSION_WORKFLOW_TYPE, proposeUpdate, sessionWorkflowId, type ProposeResult } from '../../workflows/contract';
import { createTestDatabase, getTestServers, type TestDatabase, type TestServers } from '../support/servers';
import { eventually } from '../support/eventually';
import { workerBundleFile } from '../support/worker-bundle';
import { testTrust, writeTestKeys } from '../support/trust';
import { TEST_POLICY, TEST_WRITES_DDL } from './fixtures/catalog';

let dir: string;
let servers: TestServers;
let audit: TestDatabase;
let production: TestDatabase;
let worker: WorkerProcess | undefined;
let gh: Gatehouse;
const taskQueue = `test-task-retry-${randomBytes(4).toString('hex')}`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-task-retry-'));
  servers = await getTestServers();
  audit = await createTestDatabase('wf_retry_audit');
  production = await createTestDatabase('wf_retry_prod');
  await seedSampleProduction(production.pool);
  await production.pool.query(TEST_WRITES_DDL);
  const policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(TEST_POLICY));
  const connection = await Connection.connect({ address: servers.temporalAddress });
  worker = await startWorkerProcess({
    temporalAddress: servers.temporalAddress, namespace: servers.namespace, taskQueue,
    databaseUrl: audit.url, productionDatabaseUrl: production.url, policyFile, keysFile: writeTestKeys(join(dir, 'keys')),
    catalogModule: join(__dirname, 'fixtures', 'catalog.ts'), dataDir: join(dir, 'worker-data'), workflowBundleFile: await workerBundleFile(dir),
    workflowService: connection.workflowService, timeoutMs: 60_000,
  });
  await connection.close();
  gh = await Gatehouse.connect({ address: servers.temporalAddress, namespace: servers.namespace, taskQueue, issuer: testTrust().operator });
});
after(async () => {
  if (worker) process.kill(worker.pid, 'SIGCONT');
  await worker?.stop();
  await gh?.close();
  await audit?.drop();
  await production?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const WRITE_INTENT = 'write numbered rows to the staging config';

/** What the server answers an update while the session's workflow task is failing (the SDK's own call). */
async function refusedUpdate(workflowId: string): Promise<unknown> {
  return gh.client.workflow.getHandle(workflowId).executeUpdate(proposeUpdate, { args: [{ tool: 'test.slowWrite', args: { n: 99 }, reasoning: 'probe' }], updateId: randomUUID() }).then(() => undefined, (e: unknown) => e);
}

/** A session whose workflow task times out after 2 s (the default is 10 s): what an overloaded worker misses. */
async function startQuickTimeoutSession(): Promise<{ readonly sessionId: string; readonly workflowId: string }> {
  const sessionId = randomUUID();
  const workflowId = sessionWorkflowId(sessionId);
  const credential = await testTrust().credential('retry-bot', 'eng-007');
  await gh.client.workflow.start(SESSION_WORKFLOW_TYPE, {
    taskQueue, workflowId, workflowTaskTimeout: '2s',
    args: [{ sessionId, credential, agentId: 'retry-bot', owner: 'eng-007', intent: WRITE_INTENT }],
  });
  return { sessionId, workflowId };
}

/** Resolves once the first call's write-ahead events are in the trail (runTool, a local activity, wrote them). */
function writtenAhead(sessionId: string): Promise<unknown> {
  return eventually(async () => ((await audit.pool.query("SELECT 1 FROM events WHERE session_id = $1 AND kind = 'decided'", [sessionId])).rowCount ?? 0) > 0, { what: 'call 1 written ahead', timeoutMs: 60_000 });
}

describe('a workflow task retried after its audit append committed', () => {
  it('the proposals wait while the task fails, the session finishes, its trail verifies: each call once, no conflict', async () => {
    const { sessionId, workflowId } = await startQuickTimeoutSession();
    const s = gh.session(sessionId);
    const first = s.propose({ tool: 'test.slowWrite', args: { n: 1, sleepMs: 1500 }, reasoning: 'row 1' });
    // Call 1 is written ahead: the worker stops.
    await writtenAhead(sessionId);
    process.kill(worker!.pid, 'SIGSTOP');
    let second: Promise<ProposeResult> | undefined;
    try {
      await eventually(async () => ((await s.workflow.describe()).raw.pendingWorkflowTask?.attempt ?? 0) >= 2, { what: 'the workflow task timed out and is retried', timeoutMs: 60_000 });
      assert.equal(isWorkflowNotReady(await refusedUpdate(workflowId)), true, 'the server refuses updates while the task fails');
      // The agent's next proposal arrives now: refused at first, it must wait for the task, not be lost.
      second = s.propose({ tool: 'test.slowWrite', args: { n: 2 }, reasoning: 'row 2' });
      assert.equal(isWorkflowNotReady(await refusedUpdate(workflowId)), true, 'still refused after the proposal was sent');
    } finally {
      process.kill(worker!.pid, 'SIGCONT');
    }
    const [r1, r2] = await Promise.all([first, second]);
    assert.deepEqual([r1.status, r1.sequence, r2.status, r2.sequence], ['executed', 1, 'executed', 2]);
    const summary = await s.end({ reason: 'done' });
    assert.deepEqual([summary.finalState, summary.counters.executed], ['completed', 2]);

    const events = await audit.pool.query<{ seq: number; kind: string; proposal_seq: number | null }>('SELECT seq, kind, proposal_seq FROM events WHERE session_id = $1 ORDER BY seq', [sessionId]);
    assert.deepEqual(events.rows.map((e) => [Number(e.seq), e.kind, e.proposal_seq]), [
      [1, 'session-started', null],
      [2, 'proposed', 1], [3, 'decided', 1], [4, 'executed', 1],
      [5, 'proposed', 2], [6, 'decided', 2], [7, 'executed', 2],
      [8, 'session-ended', null],
    ], 'every event once, in order, none lost');
    assert.equal((await verifyDatabase(audit.pool, { sessionId, keyset: testTrust().keyset })).ok, true, '`audit verify` holds');
    assert.deepEqual((await audit.pool.query('SELECT kind FROM alerts WHERE session_id = $1', [sessionId])).rows, [], 'no audit.conflict (or any) alert');
    const writes = await production.pool.query('SELECT n, count(*)::int AS count FROM test_writes WHERE idempotency_key LIKE $1 GROUP BY n ORDER BY n', [`${sessionId}:%`]);
    assert.deepEqual(writes.rows, [{ n: 1, count: 1 }, { n: 2, count: 1 }], 'each call ran once');
  });

  it('a worker frozen past its task timeout does not handle the update again when it wakes: the call runs once, and sent again by its id it is the same call', async () => {
    const { sessionId, workflowId } = await startQuickTimeoutSession();
    const s = gh.session(sessionId);
    await s.state();
    const updateId = randomUUID();
    const call = { tool: 'test.slowWrite', args: { n: 1, sleepMs: 1500 }, reasoning: 'row 1' };
    const send = () => gh.client.workflow.getHandle(workflowId).executeUpdate(proposeUpdate, { args: [call], updateId });
    // Sent once by the SDK's own call, which does not ask again while the task fails (a gateway that crashed).
    const abandoned = send().then((r) => r, (e: unknown) => e);
    await writtenAhead(sessionId);
    process.kill(worker!.pid, 'SIGSTOP');
    try {
      await eventually(async () => ((await s.workflow.describe()).raw.pendingWorkflowTask?.attempt ?? 0) >= 2, { what: 'the workflow task timed out and is retried', timeoutMs: 60_000 });
    } finally {
      process.kill(worker!.pid, 'SIGCONT');
    }
    // The first send's answer may or may not have come (it did when the retried task took the
    // update again): either way, sent again by its id it is the same call, answered once more.
    await abandoned;
    const again = (await send()) as ProposeResult;
    assert.deepEqual([again.status, again.sequence], ['executed', 1]);
    await s.end({ reason: 'done' });
    const events = await audit.pool.query<{ seq: number; kind: string; proposal_seq: number | null }>('SELECT seq, kind, proposal_seq FROM events WHERE session_id = $1 ORDER BY seq', [sessionId]);
    assert.deepEqual(events.rows.map((e) => [Number(e.seq), e.kind, e.proposal_seq]), [
      [1, 'session-started', null],
      [2, 'proposed', 1], [3, 'decided', 1], [4, 'executed', 1],
      [5, 'session-ended', null],
    ]);
    assert.equal((await verifyDatabase(audit.pool, { sessionId, keyset: testTrust().keyset })).ok, true);
    assert.deepEqual((await audit.pool.query('SELECT kind FROM alerts WHERE session_id = $1', [sessionId])).rows, []);
    const writes = await production.pool.query('SELECT count(*)::int AS n FROM test_writes WHERE idempotency_key LIKE $1', [`${sessionId}:%`]);
    assert.equal(writes.rows[0]?.n, 1, 'the call ran once');
  });
});
