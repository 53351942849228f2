/**
 * `npm run bench:session`: what Gatehouse adds to a tool call, against a real Temporal dev server.
 *
 * - gated: the round trip of an autonomous `propose` (update → policy in-workflow → one `runTool`
 *   activity that writes the write-ahead audit events, runs the tool, writes the outcome → intent
 *   score as a local activity → result);
 * - plain: the same tool handler as a plain Temporal activity behind an update, without Gatehouse;
 * - throughput: proposals per second with 50 concurrent sessions on one worker.
 *
 * Runs on an in-memory dev server (the JSON line), then repeats the latency part on a file-backed
 * (SQLite) server and prints it on the line before. Last line: one JSON object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { seedSampleProduction, createSampleCatalog } from '../activities/tools/sample';
import { Gatehouse } from '../client';
import { parsePolicy } from '../policies';
import { createGatehouseWorker, WORKFLOWS_PATH } from '../worker/create-worker';
import { startTemporalDevServer } from '../worker/devstack/temporal-server';
import { findTemporalCli } from '../worker/devstack/temporal-binary';
import { createTestDatabase } from '../test/support/servers';

const TOOL = 'volumes.list';
const LATENCY_CALLS = Number(process.env.BENCH_CALLS ?? 300);
const SESSIONS = 50;
const PER_SESSION = Number(process.env.BENCH_PER_SESSION ?? 12);

const POLICY = (() => {
  const parsed = parsePolicy({
    name: 'bench',
    budget: { windowMinutes: 30, actions: 100_000, writes: 100_000, critical: 100, readOnlyAt: 1 },
    rateLimits: { perTool: { max: 100_000, perSeconds: 1 }, perSession: { max: 100_000, perSeconds: 1 } },
    intent: { reviewBelow: 0, decay: 0.8 },
  });
  if (!parsed.success) throw new Error(JSON.stringify(parsed.issues));
  return parsed.data;
})();

function pct(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round((sorted[i] ?? 0) * 100) / 100;
}

async function timeEach(n: number, fn: () => Promise<void>): Promise<number[]> {
  for (let i = 0; i < 20; i++) await fn(); // warm-up
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

interface Figures {
  gated_p50_ms: number;
  gated_p99_ms: number;
  plain_p50_ms: number;
  plain_p99_ms: number;
  overhead_ratio: number;
  proposals_per_s?: number;
  /** The same concurrent load as plain activities without Gatehouse: the server's own ceiling. */
  plain_calls_per_s?: number;
}

async function run(address: string, withThroughput: boolean, deps: Awaited<ReturnType<typeof setupDatabases>>): Promise<Figures> {
  const taskQueue = `bench-session-${randomBytes(4).toString('hex')}`;
  const connection = await NativeConnection.connect({ address });
  const worker = await createGatehouseWorker({
    connection,
    taskQueue,
    auditPool: deps.audit.pool,
    catalog: deps.catalog,
    policy: POLICY,
    workflowBundle: deps.bundle,
    workerOptions: { maxConcurrentActivityTaskExecutions: 200, maxConcurrentWorkflowTaskExecutions: 100, maxCachedWorkflows: 200 },
  });
  const plainQueue = `${taskQueue}-plain`;
  const def = deps.catalog.get(TOOL)!;
  const plainWorker = await Worker.create({
    connection,
    taskQueue: plainQueue,
    workflowBundle: deps.plainBundle,
    activities: {
      async callTool(input: { tool: string; args: Record<string, unknown> }) {
        const client = await deps.production.pool.connect();
        try {
          await client.query('BEGIN');
          const r = await def.handler(def.input.parse(input.args), { db: client, idempotencyKey: 'plain', sessionId: 'plain', proposalSeq: 0, attempt: 1, signal: new AbortController().signal, heartbeat: () => undefined });
          await client.query('COMMIT');
          return r;
        } finally {
          client.release();
        }
      },
    },
  });
  const gh = await Gatehouse.connect({ address, namespace: 'default', taskQueue });
  const clientConn = await Connection.connect({ address });
  const client = new Client({ connection: clientConn });
  try {
    return await Promise.all([worker.run(), plainWorker.run(), (async () => {
      try {
        const s = await gh.startSession({ agentId: 'bench-agent', owner: 'bench', intent: 'list volumes and where they are mounted' });
        const gated = await timeEach(LATENCY_CALLS, async () => {
          const r = await s.propose({ tool: TOOL, args: {}, reasoning: 'list volumes' });
          if (r.status !== 'executed') throw new Error(`gated call ${r.status}: ${JSON.stringify(r.decision.reasons)}`);
        });
        await s.end({});
        const plainHandle = await client.workflow.start('plainSession', { taskQueue: plainQueue, workflowId: `plain-${randomBytes(4).toString('hex')}` });
        const plain = await timeEach(LATENCY_CALLS, async () => {
          await plainHandle.executeUpdate('call', { args: [{ tool: TOOL, args: {} }] });
        });
        await plainHandle.signal('stop');
        const figures: Figures = {
          gated_p50_ms: pct(gated, 50),
          gated_p99_ms: pct(gated, 99),
          plain_p50_ms: pct(plain, 50),
          plain_p99_ms: pct(plain, 99),
          overhead_ratio: Math.round((pct(gated, 50) / pct(plain, 50)) * 100) / 100,
        };
        if (withThroughput) {
          const sessions = await Promise.all(
            Array.from({ length: SESSIONS }, (_, i) => gh.startSession({ agentId: `bench-${i}`, owner: 'bench', intent: 'list volumes and where they are mounted' })),
          );
          const t = performance.now();
          await Promise.all(
            sessions.map(async (ss) => {
              for (let k = 0; k < PER_SESSION; k++) {
                const r = await ss.propose({ tool: TOOL, args: {}, reasoning: 'list volumes' });
                if (r.status !== 'executed') throw new Error(`throughput call ${r.status}`);
              }
            }),
          );
          const seconds = (performance.now() - t) / 1000;
          figures.proposals_per_s = Math.round((SESSIONS * PER_SESSION) / seconds);
          await Promise.all(sessions.map((ss) => ss.end({})));
          // The same load without Gatehouse: what this server and machine allow at all.
          const plains = await Promise.all(
            Array.from({ length: SESSIONS }, () => client.workflow.start('plainSession', { taskQueue: plainQueue, workflowId: `plain-${randomBytes(4).toString('hex')}` })),
          );
          const tp = performance.now();
          await Promise.all(
            plains.map(async (h) => {
              for (let k = 0; k < PER_SESSION; k++) await h.executeUpdate('call', { args: [{ tool: TOOL, args: {} }] });
            }),
          );
          figures.plain_calls_per_s = Math.round((SESSIONS * PER_SESSION) / ((performance.now() - tp) / 1000));
          await Promise.all(plains.map((h) => h.signal('stop')));
        }
        return figures;
      } finally {
        worker.shutdown();
        plainWorker.shutdown();
      }
    })()]).then((r) => r[2]);
  } finally {
    await gh.close();
    await clientConn.close();
    await connection.close();
  }
}

async function setupDatabases() {
  const audit = await createTestDatabase('bench_session_audit');
  const production = await createTestDatabase('bench_session_prod');
  await seedSampleProduction(production.pool);
  const catalog = createSampleCatalog({ productionPool: production.pool });
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  const plainBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/plain-workflow'), logger: new DefaultLogger('WARN') });
  return { audit, production, catalog, bundle, plainBundle };
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const cliPath = await findTemporalCli();
  const deps = await setupDatabases();
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  try {
    const memory = await startTemporalDevServer({ cliPath, uiPort: false });
    let inMemory: Figures;
    try {
      inMemory = await run(memory.address, true, deps);
    } finally {
      await memory.stop();
    }
    const file = await startTemporalDevServer({ cliPath, uiPort: false, dbFilename: join(dir, 'bench.db') });
    let fileBacked: Figures;
    try {
      fileBacked = await run(file.address, false, deps);
    } finally {
      await file.stop();
    }
    process.stdout.write(`server: temporal dev server (CLI ${cliPath}); ${LATENCY_CALLS} sequential calls of \`${TOOL}\` per mode after 20 warm-up; throughput ${SESSIONS} sessions x ${PER_SESSION} proposals; one in-process worker\n`);
    process.stdout.write(`file-backed (SQLite) server: ${JSON.stringify(fileBacked)}\n`);
    process.stdout.write(`in-memory server (the figures below): ${JSON.stringify({ ...inMemory, proposals_per_s: undefined, plain_calls_per_s: undefined })}\n`);
    process.stdout.write(
      `${JSON.stringify({
        gated_p50_ms: inMemory.gated_p50_ms,
        gated_p99_ms: inMemory.gated_p99_ms,
        plain_p50_ms: inMemory.plain_p50_ms,
        plain_p99_ms: inMemory.plain_p99_ms,
        overhead_ratio: inMemory.overhead_ratio,
        proposals_per_s: inMemory.proposals_per_s,
        plain_calls_per_s: inMemory.plain_calls_per_s,
        sessions: SESSIONS,
      })}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await deps.audit.drop();
    await deps.production.drop();
  }
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
