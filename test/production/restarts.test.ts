/**
 * The full Temporal server and its PostgreSQL restarted mid-session: the server SIGKILLed and
 * started again on the same databases (a tool call in flight meanwhile), then its PostgreSQL
 * stopped and started again; the worker process keeps running through both, and the sessions go
 * on with every step executed once. Slow part of the suite (test/production).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Gatehouse, type SessionHandle } from '../../client';
import { eventually } from '../support/eventually';
import { testTrust } from '../support/trust';
import { startTestCluster, type TestCluster } from './cluster';

const TOOL = 'test.slowWriteActivity';
let cluster: TestCluster;

before(async () => {
  cluster = await startTestCluster('prod_restarts');
});
after(async () => {
  await cluster?.stop();
});

async function writesOf(sessionId: string): Promise<[number, number][]> {
  const r = await cluster.production.pool.query<{ n: number; count: number }>(
    'SELECT n, count(*)::int AS count FROM test_writes WHERE idempotency_key LIKE $1 GROUP BY n ORDER BY n',
    [`${sessionId}:%`],
  );
  return r.rows.map((w) => [w.n, w.count]);
}

async function proposeRows(s: SessionHandle, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++) assert.equal((await s.propose({ tool: TOOL, args: { n }, reasoning: `row ${n}` })).status, 'executed', `row ${n}`);
}

describe('restarts under the full temporal server', () => {
  it('the server is SIGKILLed and restarted with a call in flight, then its postgres restarts; the session goes on, every call once', async () => {
    const taskQueue = `test-restarts-${randomBytes(4).toString('hex')}`;
    const worker = await cluster.spawnWorker(taskQueue);
    const connect = () => Gatehouse.connect({ address: cluster.address, namespace: cluster.namespace, taskQueue, issuer: testTrust().operator, tls: cluster.tls('bench') });
    let gh = await connect();
    try {
      const s = await gh.startSession({ agentId: 'restart-agent', owner: 'eng-007', intent: 'write numbered rows to the staging config' });
      await proposeRows(s, 1, 3);

      // Call 4 sleeps inside the tool; the server dies under it.
      const inFlight = s.propose({ tool: TOOL, args: { n: 4, sleepMs: 3000 }, reasoning: 'row 4' }).catch((err: unknown) => err);
      await eventually(
        async () => ((await cluster.audit.pool.query("SELECT 1 FROM events WHERE session_id = $1 AND proposal_seq = 4 AND kind = 'decided'", [s.sessionId])).rowCount ?? 0) > 0,
        { what: 'call 4 in flight', timeoutMs: 60_000 },
      );
      await cluster.restartServer();
      await inFlight; // its client call may or may not survive the restart; the workflow's step does
      await gh.close();
      gh = await connect();
      const again = gh.session(s.sessionId);
      await eventually(async () => (await writesOf(s.sessionId)).length === 4, { what: 'call 4 finished after the restart', timeoutMs: 120_000 });
      await proposeRows(again, 5, 6);

      await cluster.restartPostgres();
      await proposeRows(again, 7, 8);

      const summary = await again.end({ reason: 'done' });
      assert.equal(summary.counters.executed, 8);
      assert.deepEqual(await writesOf(s.sessionId), Array.from({ length: 8 }, (_, i) => [i + 1, 1]), 'every call ran exactly once');
    } finally {
      await gh.close();
      await worker.stop();
    }
  });
});
