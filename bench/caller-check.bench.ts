/**
 * `npm run bench:caller`: the caller check's cost per activity (activities/caller.ts), against a
 * real in-memory Temporal dev server. Starts `BENCH_RUNS` genuine `agentSession` runs (on a queue
 * nobody polls: they stay running), then times `verify` as an activity of each sees it:
 * - first call of a run: the describe round trip to the server and the checks;
 * - every later call of the run: the cached answer (a map lookup and the input checks).
 * The activity context is `MockActivityEnvironment`'s, filled in as the worker would; its own cost
 * (an empty activity in it) is taken off the cached figure.
 * Last line: `{"runs":…,"first_ms_p50":…,"first_ms_p95":…,"cached_us":…}`.
 */
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { temporalCallerCheck } from '../activities/caller';
import { SESSION_WORKFLOW_TYPE, sessionWorkflowId } from '../workflows/contract';
import { findTemporalCli } from '../worker/devstack/temporal-binary';
import { startTemporalDevServer } from '../worker/devstack/temporal-server';
import { pct } from './fixtures/percentile';

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const CACHED_CALLS = Number(process.env.BENCH_CACHED_CALLS ?? 20_000);

async function main(): Promise<void> {
  const server = await startTemporalDevServer({ cliPath: await findTemporalCli(), uiPort: false });
  const connection = await NativeConnection.connect({ address: server.address });
  const clientConnection = await Connection.connect({ address: server.address });
  try {
    const client = new Client({ connection: clientConnection, namespace: 'default' });
    const taskQueue = `bench-caller-${randomBytes(4).toString('hex')}`;
    const runs: { sessionId: string; env: MockActivityEnvironment }[] = [];
    for (let i = 0; i < RUNS; i++) {
      const sessionId = `bench-${randomBytes(6).toString('hex')}`;
      const handle = await client.workflow.start(SESSION_WORKFLOW_TYPE, { taskQueue, workflowId: sessionWorkflowId(sessionId), args: [{}] });
      const env = new MockActivityEnvironment({
        activityType: 'appendAudit',
        isLocal: false,
        workflowExecution: { workflowId: handle.workflowId, runId: handle.firstExecutionRunId },
        workflowType: SESSION_WORKFLOW_TYPE,
        namespace: 'default',
      });
      runs.push({ sessionId, env });
    }
    const check = temporalCallerCheck({
      connection,
      namespace: 'default',
      taskQueue,
      alerts: { raiseAlert: () => Promise.reject(new Error('bench: every caller here is genuine')) },
    });
    const verify = (r: (typeof runs)[number]) => r.env.run(() => check.verify('appendAudit', { sessionIds: [r.sessionId] }));

    const first: number[] = [];
    for (const r of runs) {
      const t = performance.now();
      await verify(r);
      first.push(performance.now() - t);
    }
    const perCallUs = async (call: (r: (typeof runs)[number]) => Promise<unknown>) => {
      const t = performance.now();
      for (let i = 0; i < CACHED_CALLS; i++) await call(runs[i % runs.length]!);
      return ((performance.now() - t) * 1000) / CACHED_CALLS;
    };
    // The mock context's own cost (a worker's activity already runs in one) is measured and taken off.
    const contextUs = await perCallUs((r) => r.env.run(async () => undefined));
    const cachedUs = Math.max(0, (await perCallUs(verify)) - contextUs);
    if (check.stats.describes !== RUNS) throw new Error(`expected ${RUNS} describes, made ${check.stats.describes}`);

    const sorted = [...first].sort((a, b) => a - b);
    process.stdout.write(`caller check on an in-memory dev server, ${RUNS} genuine runs: first call (describe) p50 ${pct(sorted, 50).toFixed(2)} ms, p95 ${pct(sorted, 95).toFixed(2)} ms; cached ${cachedUs.toFixed(2)} µs per call (${CACHED_CALLS} calls, ${check.stats.describes} describes)\n`);
    process.stdout.write(`${JSON.stringify({ runs: RUNS, first_ms_p50: +pct(sorted, 50).toFixed(3), first_ms_p95: +pct(sorted, 95).toFixed(3), cached_us: +cachedUs.toFixed(3) })}\n`);
    for (const r of runs) await client.workflow.getHandle(sessionWorkflowId(r.sessionId)).terminate('bench done');
  } finally {
    await clientConnection.close();
    await connection.close();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:caller: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
