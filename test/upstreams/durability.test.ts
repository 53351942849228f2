/**
 * A worker killed (SIGKILL) while an upstream MCP call is in flight, with the worker in a process
 * of its own (`worker/main.ts` with `GATEHOUSE_CONFIG`). The call's tool is not idempotent by the
 * policy, so the next worker must not send it again: the call ends as a failed `OutcomeUnknown`,
 * in the ledger and the audit trail, the upstream saw it once, and the session goes on. Both
 * execution kinds: a local activity (timeout ≤ 10 s, re-run when the workflow task is retried) and
 * a regular activity (retried after its heartbeat timeout).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Connection } from '@temporalio/client';
import { Gatehouse } from '../../client';
import { startWorkerProcess, type WorkerProcess } from '../../worker/devstack/worker-process';
import { eventually } from '../support/eventually';
import { createTestDatabase, getTestServers, type TestDatabase } from '../support/servers';
import { testTrust, writeTestKeys } from '../support/trust';
import { workerBundleFile } from '../support/worker-bundle';

const POLICY = {
  name: 'upstream-durability',
  upstreamTools: { 'faulty.echo': { effect: 'read', idempotent: true }, 'faulty.*': { effect: 'read' } },
  budget: { actions: 200, writes: 100, critical: 50, readOnlyAt: 0.95 },
  intent: { reviewBelow: 0 },
  approvers: { groups: { 'on-call': ['alice'] }, default: { groups: ['on-call'], timeoutMinutes: 15 } },
};

let dir: string;
let audit: TestDatabase;
let production: TestDatabase;
let keysFile: string;
let policyFile: string;
const workers: WorkerProcess[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-upstream-durability-'));
  audit = await createTestDatabase('up_dur_audit');
  production = await createTestDatabase('up_dur_prod');
  keysFile = writeTestKeys(join(dir, 'keys'));
  policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(POLICY));
});

after(async () => {
  for (const w of workers) await w.kill();
  await audit?.drop();
  await production?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A config file with the faulty fixture server, recording its calls in `state`. */
function configFile(name: string, timeoutMs: number, state: string): string {
  const file = join(dir, `${name}.yaml`);
  const server = join(__dirname, 'fixtures', 'faulty-server.mjs');
  writeFileSync(file, `mcp:\n  upstreams:\n    faulty:\n      command: ${JSON.stringify(process.execPath)}\n      args: [${JSON.stringify(server)}]\n      env: { FAULTY_STATE: ${JSON.stringify(state)} }\n      timeoutMs: ${timeoutMs}\n`);
  return file;
}

function reached(state: string, tool: string): number {
  if (!existsSync(state)) return 0;
  return readFileSync(state, 'utf8').split('\n').filter((l) => l.startsWith(`${tool} `)).length;
}

async function spawnWorker(taskQueue: string, config: string): Promise<WorkerProcess> {
  const { temporalAddress, namespace } = await getTestServers();
  const connection = await Connection.connect({ address: temporalAddress });
  try {
    const w = await startWorkerProcess({
      temporalAddress,
      namespace,
      taskQueue,
      databaseUrl: audit.url,
      productionDatabaseUrl: production.url,
      policyFile,
      keysFile,
      configFile: config,
      workflowBundleFile: await workerBundleFile(dir),
      // One per queue: the two tests run at the same time.
      dataDir: join(dir, `worker-data-${taskQueue}`),
      workflowService: connection.workflowService,
      timeoutMs: 120_000,
    });
    workers.push(w);
    return w;
  } finally {
    await connection.close();
  }
}

// Both tests mostly wait on the server's timeouts after the crash, so they run at the same time:
// own task queue, config, upstream state file, worker processes and data folder each; every
// query is by session.
describe('upstream calls across a worker crash', { concurrency: 2 }, () => {
  for (const [kind, timeoutMs] of [['local activity', 8_000], ['regular activity', 20_000]] as const) {
    it(`${kind}: the call in flight is not sent again; it fails as OutcomeUnknown and the session goes on`, async () => {
      const { temporalAddress, namespace } = await getTestServers();
      const state = join(dir, `calls-${timeoutMs}.log`);
      const config = configFile(`gatehouse-${timeoutMs}`, timeoutMs, state);
      const taskQueue = `test-upstream-durability-${randomBytes(4).toString('hex')}`;
      let worker = await spawnWorker(taskQueue, config);
      const gh = await Gatehouse.connect({ address: temporalAddress, namespace, taskQueue, issuer: testTrust().operator });
      try {
        const s = await gh.startSession({ agentId: 'crash-agent', owner: 'eng-007', intent: 'call the faulty server' });
        assert.equal((await s.propose({ tool: 'faulty.echo', args: { text: 'before' }, reasoning: 'warm up' })).status, 'executed');
        const inFlight = s.propose({ tool: 'faulty.hang', args: {}, reasoning: 'a call that never answers' });
        inFlight.catch(() => undefined);
        // In flight: the upstream has the request (it records every call it receives).
        await eventually(() => (reached(state, 'hang') === 1 ? true : undefined), { what: 'the hang call to reach the upstream', timeoutMs: 60_000 });
        await worker.kill();
        worker = await spawnWorker(taskQueue, config);
        const r = await inFlight;
        assert.equal(r.status, 'failed');
        assert.equal(r.error?.type, 'OutcomeUnknown');
        assert.match(r.error!.message, /^upstream server `faulty`: an earlier attempt of `hang` .* started and never reported back/);
        assert.equal(reached(state, 'hang'), 1, 'the upstream got the call once');

        const ledger = await production.pool.query("SELECT status, error->>'type' AS type FROM tool_executions WHERE session_id = $1 AND tool = 'faulty.hang'", [s.sessionId]);
        assert.deepEqual(ledger.rows, [{ status: 'failed', type: 'OutcomeUnknown' }]);
        const events = await audit.pool.query("SELECT kind, detail->>'errorType' AS type FROM events WHERE session_id = $1 AND tool = 'faulty.hang' AND kind IN ('executed', 'failed')", [s.sessionId]);
        assert.deepEqual(events.rows, [{ kind: 'failed', type: 'OutcomeUnknown' }]);

        const after = await s.propose({ tool: 'faulty.echo', args: { text: 'after' }, reasoning: 'the session goes on' });
        assert.equal(after.status, 'executed');
      } finally {
        await gh.close();
        await worker.stop();
      }
    });
  }
});
