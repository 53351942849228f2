/**
 * Two worker processes on one task queue of the full Temporal server (on PostgreSQL) share 50
 * sessions; one is SIGKILLed while it runs a tool call, and the other finishes every session:
 * none lost, no tool run twice (the tool's own rows, the `tool_executions` ledger and the audit
 * trail each count exactly one execution per step). Slow part of the suite (test/production).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { Gatehouse } from '../../client';
import { sessionWorkflowId } from '../../workflows/contract';
import { eventually } from '../support/eventually';
import { testTrust } from '../support/trust';
import { startTestCluster, type TestCluster } from './cluster';

const SESSIONS = 50;
const TOOL = 'test.slowWriteActivity';
let cluster: TestCluster;

before(async () => {
  cluster = await startTestCluster('prod_workers');
});
after(async () => {
  await cluster?.stop();
});

describe('several workers on the full temporal server', () => {
  it(`two workers share ${SESSIONS} sessions; one is SIGKILLed mid-call; the other finishes every session, no tool run twice`, async () => {
    const taskQueue = `test-workers-${randomBytes(4).toString('hex')}`;
    const [a, b] = await Promise.all([cluster.spawnWorker(taskQueue), cluster.spawnWorker(taskQueue)]);
    const gh = await Gatehouse.connect({ address: cluster.address, namespace: cluster.namespace, taskQueue, issuer: testTrust().operator, tls: cluster.tls('bench') });
    const connection = await Connection.connect({ address: cluster.address, tls: cluster.tls('cli') });
    const client = new Client({ connection, namespace: cluster.namespace });
    try {
      const sessions = await Promise.all(
        Array.from({ length: SESSIONS }, (_, i) => gh.startSession({ agentId: `agent-${i}`, owner: 'eng-007', intent: 'write numbered rows to the staging config' })),
      );
      // Step 2 of every session sleeps 4 s inside the tool: the window in which worker A dies.
      const runs = sessions.map(async (s) => {
        const statuses: string[] = [];
        for (const [n, sleepMs] of [[1, 0], [2, 4000], [3, 0]] as const) statuses.push((await s.propose({ tool: TOOL, args: { n, sleepMs }, reasoning: `row ${n}` })).status);
        return statuses;
      });
      // Kill A only once it is running somebody's tool call (the server names its identity).
      const identityA = `${a.pid}@${hostname()}`;
      await eventually(
        async () => {
          for (const s of sessions) {
            const d = await client.workflow.getHandle(sessionWorkflowId(s.sessionId)).describe();
            if ((d.raw.pendingActivities ?? []).some((p) => p.lastWorkerIdentity === identityA && p.lastStartedTime)) return true;
          }
          return false;
        },
        { what: 'worker A running a tool call', timeoutMs: 180_000, everyMs: 250 },
      );
      await a.kill();

      const results = await Promise.all(runs);
      assert.deepEqual(results.filter((r) => r.join() !== 'executed,executed,executed'), [], 'every step of every session executed');
      const summaries = await Promise.all(sessions.map((s) => s.end({ reason: 'done' })));
      assert.deepEqual(summaries.map((x) => x.counters.executed), Array<number>(SESSIONS).fill(3));

      const ids = sessions.map((s) => s.sessionId);
      const writes = await cluster.production.pool.query<{ key: string; count: number }>(
        "SELECT split_part(idempotency_key, ':', 1) || ':' || n AS key, count(*)::int AS count FROM test_writes WHERE split_part(idempotency_key, ':', 1) = ANY($1) GROUP BY 1",
        [ids],
      );
      assert.equal(writes.rowCount, SESSIONS * 3, 'every call wrote its row');
      assert.deepEqual(writes.rows.filter((w) => w.count !== 1), [], 'no call ran twice');
      const ledger = await cluster.production.pool.query(
        "SELECT count(*)::int AS rows, count(DISTINCT idempotency_key)::int AS keys FROM tool_executions WHERE session_id = ANY($1) AND status = 'executed'",
        [ids],
      );
      assert.deepEqual(ledger.rows[0], { rows: SESSIONS * 3, keys: SESSIONS * 3 }, 'the ledger: one executed row per step');
      const audit = await cluster.audit.pool.query(
        "SELECT count(*)::int AS n, count(DISTINCT (session_id, proposal_seq))::int AS d FROM events WHERE session_id = ANY($1) AND kind = 'executed'",
        [ids],
      );
      assert.deepEqual(audit.rows[0], { n: SESSIONS * 3, d: SESSIONS * 3 }, 'the audit trail: one executed event per step');
    } finally {
      await gh.close();
      await connection.close();
      await b.stop();
    }
  });
});
