/**
 * `npm run bench:session`: what Gatehouse adds to a tool call, against a real Temporal dev server.
 *
 * - gated: the round trip of an autonomous `propose` (update → policy in-workflow → one `runTool`
 *   call, a local activity for a quick tool such as this one, that checks the arguments, writes the
 *   write-ahead audit events, runs the tool, writes the outcome and scores the intent → result; a
 *   tool with a blast-radius estimate gets its arguments checked by `prepareCall` first);
 * - plain: the same tool handler as a plain Temporal activity behind an update, without Gatehouse;
 *   plain local: the same as a plain local activity;
 * - durable local: Gatehouse's own `runTool` as a plain local activity (write-ahead events, ledger,
 *   outcome event; no policy): the floor of any gated call, what deciding is measured against;
 *   latency only, two lower floors (issue #28 item 2): the same with the outcome's append off the
 *   critical path (durable deferred), and a plain local activity after one write-ahead append, no
 *   ledger, no outcome (write-ahead local: the least any design that writes ahead pays);
 * - throughput: calls per second with 50 concurrent sessions on one worker — gated, and the same
 *   load as plain activities, plain local activities, durable local activities and updates that do
 *   nothing (the floor of this server), in rounds, each load once per round in turn; each with the
 *   CPU it cost per call in the worker (this process), the client (a process of its own,
 *   bench/fixtures/load-client.ts), the Temporal server and PostgreSQL.
 * The sequential latencies take one call of each mode in turn, so a slow spell hits them alike.
 *
 * Runs on an in-memory dev server with `FAST_DEV_SERVER_CONFIG` (the JSON line), then repeats the
 * latency part on a file-backed (SQLite) server and on an in-memory server with the dev server's
 * own settings, and gated calls with tracing off and on in alternating blocks (OTLP/HTTP to a local
 * collector, bench/fixtures/tracing.ts), printed on the lines before. `BENCH_SESSION_PART` runs one
 * part alone on an in-memory server: `latency` (the sequential latencies), `ratios` (latencies and
 * throughput: the JSON line alone), `cross` (agent-wide rules on vs off, bench/fixtures/cross-session.ts),
 * `tracing`, `activity` (the durable floor's activity alone, no Temporal: bench/fixtures/activity-floor.ts).
 * Last line: one JSON object, the ratios of issue #14: gated p50 / plain local activity p50 and
 * gated / plain-local throughput, the same against the durable floor, and each one's worker CPU per call.
 * `BENCH_HISTORY_LIMIT` sets the sessions' continue-as-new bound (history events; unset: the worker's, by its cache). The durable
 * floor's worker has the gated worker's settings and workflow threads, so the loads differ only in what runs.
 * `BENCH_LOADS` (comma-separated load names) runs some throughput loads alone, and `BENCH_PHASES`
 * prints each load's window on the clock a `--cpu-prof` profile stamps its samples with (BENCHMARKS.md, #28).
 * `BENCH_TEMPORAL=both` runs the in-memory dev server and then the full Temporal server on
 * PostgreSQL (issue #15), one JSON line each (the full server's last); `BENCH_TEMPORAL=server` the
 * full server alone.
 */
import { BENCH_POLICY } from './fixtures/policy';
import { pct } from './fixtures/percentile';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { seedSampleProduction, createSampleCatalog } from '../activities/tools/sample';
import { Gatehouse } from '../client';
import { bundleGatehouseWorkflows } from '../worker/bundle';
import { GATEHOUSE_WORKFLOW_THREADS, createGatehouseWorker } from '../worker/create-worker';
import { startTemporalDevServer } from '../worker/devstack/temporal-server';
import { findTemporalCli } from '../worker/devstack/temporal-binary';
import { createTestDatabase, getTestServers } from '../test/support/servers';
import { startTemporalFullServer } from '../worker/devstack/temporal-full-server';
import { TEMPORAL_SERVER_VERSION } from '../worker/devstack/temporal-server-binary';
import { testTrust } from '../test/support/trust';
import { describeLoad, measureInTurn, timeInTurn, type Load } from './fixtures/in-turn';
import { measureTracingCost, type TracingCost } from './fixtures/tracing';
import { measureCrossCost } from './fixtures/cross-session';
import { createDurableCall, createPlainCall } from './fixtures/durable-call';
import { measureActivityFloor } from './fixtures/activity-floor';
import { forkLoadClient } from './fixtures/load-client';
import { TRACING_WORKFLOW_MODULES } from '../telemetry/install';

const TOOL = 'volumes.list';
/** `BENCH_SESSION_PART`: one part alone. */
const SESSION_PARTS = ['latency', 'ratios', 'cross', 'tracing', 'activity'] as const;
const LATENCY_CALLS = Number(process.env.BENCH_CALLS ?? 300);
const SESSIONS = 50;
const PER_SESSION = Number(process.env.BENCH_PER_SESSION ?? 12);
/** Rounds of the throughput loads, each load once per round in turn. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const POLICY = BENCH_POLICY;
/** `BENCH_HISTORY_LIMIT`: the sessions' continue-as-new bound in history events (the worker's `sessionHistoryLimit`; unset: the worker's choice). */
const HISTORY_LIMIT = process.env.BENCH_HISTORY_LIMIT ? Number(process.env.BENCH_HISTORY_LIMIT) : undefined;
/** Both workers' settings; `BENCH_WORKER_OPTIONS` (JSON) overrides them. */
const WORKER_OPTIONS: { workflowThreadPoolSize?: number } & Record<string, unknown> = { maxConcurrentActivityTaskExecutions: 200, maxConcurrentWorkflowTaskExecutions: 100, maxCachedWorkflows: 200, ...JSON.parse(process.env.BENCH_WORKER_OPTIONS ?? '{}') };

interface Figures {
  gated_p50_ms: number;
  gated_p99_ms: number;
  plain_p50_ms: number;
  plain_p99_ms: number;
  plain_local_p50_ms: number;
  /** The same local activity doing a gated call's durable work (audit events, ledger) and no deciding. */
  durable_local_p50_ms: number;
  /** The same with the outcome event's append off the critical path: what deferring it would win. */
  durable_deferred_p50_ms: number;
  /** A plain local activity after one write-ahead append (no ledger, no outcome): the least a write-ahead design pays. */
  write_ahead_local_p50_ms: number;
  /** An update that does nothing: the floor of any call through this server. */
  noop_p50_ms: number;
  overhead_ratio: number;
  /** gated p50 / plain local activity p50: what Gatehouse adds to the same kind of call. */
  overhead_ratio_vs_local: number;
  proposals_per_s?: number;
  /** The same concurrent load without Gatehouse: plain activities, plain local activities, durable local activities, empty updates. */
  plain_calls_per_s?: number;
  plain_local_calls_per_s?: number;
  durable_local_calls_per_s?: number;
  noop_updates_per_s?: number;
  /** Worker CPU per call (this process, every thread) under the gated and the durable floor's loads. */
  gated_worker_cpu_ms?: number;
  durable_local_worker_cpu_ms?: number;
  /** Temporal server CPU per call under the same loads (a session's continue-as-new costs it a new run). */
  gated_temporal_cpu_ms?: number;
  durable_local_temporal_cpu_ms?: number;
}


async function run(address: string, temporalPid: number, withThroughput: boolean, deps: Awaited<ReturnType<typeof setupDatabases>>): Promise<Figures> {
  const taskQueue = `bench-session-${randomBytes(4).toString('hex')}`;
  const connection = await NativeConnection.connect({ address });
  const worker = await createGatehouseWorker({
    connection,
    taskQueue,
    auditPool: deps.audit.pool,
    catalog: deps.catalog,
    policy: POLICY,
    keyset: testTrust().keyset,
    workflowBundle: deps.bundle,
    ...(HISTORY_LIMIT !== undefined ? { sessionHistoryLimit: HISTORY_LIMIT } : {}),
    workerOptions: WORKER_OPTIONS,
  });
  const plainQueue = `${taskQueue}-plain`;
  const durable = createDurableCall({ catalog: deps.catalog, auditPool: deps.audit.pool });
  const plainCall = createPlainCall(deps.catalog.get(TOOL)!, deps.production.pool);
  // The same worker settings as the gated worker's (its workflow threads included): the loads
  // differ only in what runs, so the ratios measure Gatehouse, not a thread pool.
  const plainWorker = await Worker.create({
    workflowThreadPoolSize: GATEHOUSE_WORKFLOW_THREADS,
    ...WORKER_OPTIONS,
    connection,
    taskQueue: plainQueue,
    workflowBundle: deps.plainBundle,
    activities: {
      callTool: (input: { tool: string; args: Record<string, unknown> }) => plainCall(input),
      callDurable: durable.callDurable,
      callDurableDeferred: durable.callDurableDeferred,
      // The write-ahead events (landed before the handler, sent beside BEGIN), then the same work as `callTool`.
      callWriteAhead: durable.callWriteAhead(plainCall),
    },
  });
  // Trusted code: credentials for the bench's agents are issued with the test operator key.
  const gh = await Gatehouse.connect({ address, namespace: 'default', taskQueue, issuer: testTrust().operator });
  const clientConn = await Connection.connect({ address });
  const client = new Client({ connection: clientConn });
  try {
    return await Promise.all([worker.run(), plainWorker.run(), (async () => {
      try {
        const s = await gh.startSession({ agentId: 'bench-agent', owner: 'bench', intent: 'list volumes and where they are mounted' });
        const plainHandle = await client.workflow.start('plainSession', { taskQueue: plainQueue, workflowId: `plain-${randomBytes(4).toString('hex')}` });
        // One call of each mode in turn: a slow spell of this shared machine hits every mode alike.
        const times = await timeInTurn(LATENCY_CALLS, {
          gated: async () => {
            const r = await s.propose({ tool: TOOL, args: {}, reasoning: 'list volumes' });
            if (r.status !== 'executed') throw new Error(`gated call ${r.status}: ${JSON.stringify(r.decision.reasons)}`);
          },
          plain: async () => void (await plainHandle.executeUpdate('call', { args: [{ tool: TOOL, args: {} }] })),
          plainLocal: async () => void (await plainHandle.executeUpdate('callLocal', { args: [{ tool: TOOL, args: {} }] })),
          durableLocal: async () => void (await plainHandle.executeUpdate('callDurable', { args: [{ tool: TOOL, args: {} }] })),
          durableDeferred: async () => void (await plainHandle.executeUpdate('callDurableDeferred', { args: [{ tool: TOOL, args: {} }] })),
          writeAhead: async () => void (await plainHandle.executeUpdate('callWriteAhead', { args: [{ tool: TOOL, args: {} }] })),
          noop: async () => void (await plainHandle.executeUpdate('noop')),
        });
        const { gated, plain, plainLocal, durableLocal, durableDeferred, writeAhead, noop } = times;
        await s.end({});
        await plainHandle.signal('stop');
        const figures: Figures = {
          gated_p50_ms: pct(gated, 50),
          gated_p99_ms: pct(gated, 99),
          plain_p50_ms: pct(plain, 50),
          plain_p99_ms: pct(plain, 99),
          plain_local_p50_ms: pct(plainLocal, 50),
          durable_local_p50_ms: pct(durableLocal, 50),
          durable_deferred_p50_ms: pct(durableDeferred, 50),
          write_ahead_local_p50_ms: pct(writeAhead, 50),
          noop_p50_ms: pct(noop, 50),
          overhead_ratio: Math.round((pct(gated, 50) / pct(plain, 50)) * 100) / 100,
          overhead_ratio_vs_local: Math.round((pct(gated, 50) / pct(plainLocal, 50)) * 100) / 100,
        };
        if (withThroughput) {
          // The client in a process of its own: this process is the worker alone.
          const credentials = await Promise.all(Array.from({ length: SESSIONS }, async (_, i) => ({ agentId: `bench-${i}`, credential: await testTrust().credential(`bench-${i}`, 'bench') })));
          const loadClient = await forkLoadClient({ address, taskQueue, plainQueue, tool: TOOL, perSession: PER_SESSION, credentials });
          let loads: Record<string, Load>;
          try {
            const all: Record<string, () => Promise<void>> = {
              'gated proposals': () => loadClient.run('gated'),
              'plain activities': () => loadClient.run('call'),
              'plain local activities': () => loadClient.run('callLocal'),
              'durable local activities': () => loadClient.run('callDurable'),
              'empty updates': () => loadClient.run('noop'),
            };
            // `BENCH_LOADS`: some loads alone (comma-separated names), e.g. to profile them.
            const only = process.env.BENCH_LOADS?.split(',');
            loads = await measureInTurn({ temporal: temporalPid, client: loadClient.pid }, ROUNDS, SESSIONS * PER_SESSION, only ? Object.fromEntries(Object.entries(all).filter(([k]) => only.includes(k))) : all);
          } finally {
            await loadClient.close();
          }
          for (const [name, l] of Object.entries(loads)) {
            process.stdout.write(`throughput, ${SESSIONS} sessions x ${PER_SESSION} x ${ROUNDS} rounds: ${describeLoad(name, l)}\n`);
          }
          figures.proposals_per_s = loads['gated proposals']?.perSecond;
          figures.plain_calls_per_s = loads['plain activities']?.perSecond;
          figures.plain_local_calls_per_s = loads['plain local activities']?.perSecond;
          figures.durable_local_calls_per_s = loads['durable local activities']?.perSecond;
          figures.noop_updates_per_s = loads['empty updates']?.perSecond;
          figures.gated_worker_cpu_ms = loads['gated proposals']?.cpuMsPerCall.worker;
          figures.durable_local_worker_cpu_ms = loads['durable local activities']?.cpuMsPerCall.worker;
          figures.gated_temporal_cpu_ms = loads['gated proposals']?.cpuMsPerCall.temporal;
          figures.durable_local_temporal_cpu_ms = loads['durable local activities']?.cpuMsPerCall.temporal;
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
  const bundle = await bundleGatehouseWorkflows();
  const plainBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/plain-workflow'), logger: new DefaultLogger('WARN') });
  // The same workflows with the tracing interceptor module, for the run with tracing on.
  const tracedBundle = await bundleGatehouseWorkflows({ workflowInterceptorModules: [...TRACING_WORKFLOW_MODULES] });
  return { audit, production, catalog, bundle, plainBundle, tracedBundle };
}

function tracingCost(address: string, deps: Awaited<ReturnType<typeof setupDatabases>>): Promise<TracingCost> {
  return measureTracingCost({ address, auditPool: deps.audit.pool, catalog: deps.catalog, policy: POLICY, bundle: deps.bundle, tracedBundle: deps.tracedBundle, tool: TOOL, calls: LATENCY_CALLS });
}

/** The JSON line: the ratios of issue #14 for one server. */
function summary(f: Figures, temporal: string, tracing?: TracingCost): string {
  const ratio = (a: number | undefined, b: number | undefined) => (a && b ? Math.round((a / b) * 100) / 100 : undefined);
  return JSON.stringify({
    temporal,
    gated_p50_ms: f.gated_p50_ms,
    plain_local_p50_ms: f.plain_local_p50_ms,
    p50_ratio: f.overhead_ratio_vs_local,
    gated_per_s: f.proposals_per_s,
    plain_local_per_s: f.plain_local_calls_per_s,
    throughput_ratio: ratio(f.proposals_per_s, f.plain_local_calls_per_s),
    // Against the durable floor: what deciding costs over the writes every gated call must make.
    durable_local_p50_ms: f.durable_local_p50_ms,
    p50_ratio_vs_durable: ratio(f.gated_p50_ms, f.durable_local_p50_ms),
    durable_p50_ratio_vs_local: ratio(f.durable_local_p50_ms, f.plain_local_p50_ms),
    durable_deferred_p50_ms: f.durable_deferred_p50_ms,
    durable_deferred_p50_ratio_vs_local: ratio(f.durable_deferred_p50_ms, f.plain_local_p50_ms),
    write_ahead_local_p50_ms: f.write_ahead_local_p50_ms,
    write_ahead_p50_ratio_vs_local: ratio(f.write_ahead_local_p50_ms, f.plain_local_p50_ms),
    durable_local_per_s: f.durable_local_calls_per_s,
    throughput_ratio_vs_durable: ratio(f.proposals_per_s, f.durable_local_calls_per_s),
    noop_updates_per_s: f.noop_updates_per_s,
    // Issue #28 item 1: the worker's CPU per gated call against the floor's (and the Temporal server's).
    gated_worker_cpu_ms: f.gated_worker_cpu_ms,
    durable_local_worker_cpu_ms: f.durable_local_worker_cpu_ms,
    worker_cpu_ratio_vs_durable: ratio(f.gated_worker_cpu_ms, f.durable_local_worker_cpu_ms),
    gated_temporal_cpu_ms: f.gated_temporal_cpu_ms,
    durable_local_temporal_cpu_ms: f.durable_local_temporal_cpu_ms,
    sessions: SESSIONS,
    // Both workers' workflow threads, and the sessions' continue-as-new bound (events; unset: the worker's, by its cache).
    workflow_threads: WORKER_OPTIONS.workflowThreadPoolSize ?? GATEHOUSE_WORKFLOW_THREADS,
    history_limit: HISTORY_LIMIT ?? 'worker default',
    ...(tracing ? { tracing_off_p50_ms: tracing.off_p50_ms, tracing_on_p50_ms: tracing.on_p50_ms, tracing_p50_ratio: tracing.p50_ratio } : {}),
  });
}

/** The full Temporal server v1.32.2 on the bench's PostgreSQL (databases `temporal`, `temporal_visibility`). */
async function fullServerFigures(dir: string, deps: Awaited<ReturnType<typeof setupDatabases>>): Promise<Figures> {
  const { postgres } = await getTestServers();
  const server = await startTemporalFullServer({
    postgres: { host: postgres.host, port: postgres.port, user: postgres.user, password: postgres.password },
    stateDir: join(dir, 'temporal-server'),
  });
  try {
    return await run(server.address, server.pid, true, deps);
  } finally {
    await server.stop();
  }
}

/**
 * `BENCH_TEMPORAL`: `dev` (the default: the dev server three ways, as before), `server` (the full
 * Temporal server on PostgreSQL only) or `both` (the in-memory dev server, then the full server, in
 * one run: one JSON line each, the full server's last).
 */
async function main(): Promise<void> {
  const mode = process.env.BENCH_TEMPORAL ?? 'dev';
  if (!['dev', 'server', 'both'].includes(mode)) throw new Error(`BENCH_TEMPORAL must be dev, server or both, got \`${mode}\``);
  const part = process.env.BENCH_SESSION_PART;
  if (part !== undefined && part !== '' && !(SESSION_PARTS as readonly string[]).includes(part)) throw new Error(`BENCH_SESSION_PART must be one of ${SESSION_PARTS.join(', ')}, got \`${part}\``);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const deps = await setupDatabases();
  // One part alone, on an in-memory dev server: its lines, then exit.
  const parts: Record<(typeof SESSION_PARTS)[number], (memory: { address: string; pid: number }) => Promise<string[]>> = {
    // The sequential latencies (gated, plain, plain local, empty update).
    latency: async (memory) => [JSON.stringify(await run(memory.address, memory.pid, false, deps))],
    // The latencies and the throughput on the in-memory server: the JSON line of issue #14 alone.
    ratios: async (memory) => [summary(await run(memory.address, memory.pid, true, deps), 'dev-memory')],
    // The cost of agent-wide rules (what README "Agent-wide budgets and cross-session rules" quotes).
    cross: async (memory) => {
      const perSession = Number(process.env.BENCH_PER_SESSION ?? 10);
      const blocks = Number(process.env.BENCH_BLOCKS ?? 5);
      const cost = await measureCrossCost({ address: memory.address, auditPool: deps.audit.pool, catalog: deps.catalog, policy: POLICY, bundle: deps.bundle, tool: TOOL, sessions: 20, perSession, blocks });
      return [`in-memory dev server; 20 sessions of one agent x ${perSession} proposals of \`${TOOL}\` per block, modes in rotating order, median of ${blocks} blocks`, JSON.stringify({ part: 'cross', ...cost })];
    },
    // The cost of tracing (what README "Tracing and metrics" quotes).
    tracing: async (memory) => [JSON.stringify(await tracingCost(memory.address, deps))],
    // The durable floor's activity alone, no Temporal (bench/fixtures/activity-floor.ts).
    activity: async () => {
      const floor = await measureActivityFloor({ catalog: deps.catalog, auditPool: deps.audit.pool, productionPool: deps.production.pool, tool: TOOL, calls: Number(process.env.BENCH_CALLS ?? 1500) });
      return [JSON.stringify({ part: 'activity', ...floor })];
    },
  };
  if (part !== undefined && part !== '') {
    const only = parts[part as (typeof SESSION_PARTS)[number]];
    const memory = await startTemporalDevServer({ cliPath: await findTemporalCli(), uiPort: false });
    try {
      for (const line of await only(memory)) process.stdout.write(`${line}\n`);
    } finally {
      await memory.stop();
      await deps.audit.drop();
      await deps.production.drop();
    }
    process.exit(0);
  }
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  try {
    const lines: string[] = [];
    if (mode !== 'server') {
      const cliPath = await findTemporalCli();
      const memory = await startTemporalDevServer({ cliPath, uiPort: false });
      let inMemory: Figures;
      let tracing: TracingCost;
      try {
        inMemory = await run(memory.address, memory.pid, true, deps);
        // Tracing off and on, alternating blocks on the same server (bench/fixtures/tracing.ts).
        tracing = await tracingCost(memory.address, deps);
      } finally {
        await memory.stop();
      }
      process.stdout.write(`server: temporal dev server (CLI ${cliPath}) with FAST_DEV_SERVER_CONFIG; ${LATENCY_CALLS} sequential calls of \`${TOOL}\` per mode, one of each mode in turn, after 20 warm-up rounds; throughput ${SESSIONS} sessions x ${PER_SESSION} proposals x ${ROUNDS} rounds, loads in turn; the worker in this process, the client in its own\n`);
      if (mode === 'dev') {
        const file = await startTemporalDevServer({ cliPath, uiPort: false, dbFilename: join(dir, 'bench.db') });
        let fileBacked: Figures;
        try {
          fileBacked = await run(file.address, file.pid, false, deps);
        } finally {
          await file.stop();
        }
        // The dev server's own settings (20 task loads a second per shard): what these figures were before.
        const stock = await startTemporalDevServer({ cliPath, uiPort: false, dynamicConfig: {} });
        let stockFigures: Figures;
        try {
          stockFigures = await run(stock.address, stock.pid, false, deps);
        } finally {
          await stock.stop();
        }
        process.stdout.write(`in-memory server, dev server's default settings (latency only): ${JSON.stringify(stockFigures)}\n`);
        process.stdout.write(`file-backed (SQLite) server: ${JSON.stringify(fileBacked)}\n`);
      }
      process.stdout.write(`in-memory server, gated calls with tracing off and on (OTLP/HTTP to a local collector), alternating blocks: ${JSON.stringify(tracing)}\n`);
      process.stdout.write(`in-memory dev server: ${JSON.stringify(inMemory)}\n`);
      lines.push(summary(inMemory, 'dev', tracing));
    }
    if (mode !== 'dev') {
      const full = await fullServerFigures(dir, deps);
      process.stdout.write(`server: temporal server ${TEMPORAL_SERVER_VERSION} on PostgreSQL (4 history shards, its default dynamic config); same load\n`);
      process.stdout.write(`full server: ${JSON.stringify(full)}\n`);
      lines.push(summary(full, 'server'));
    }
    for (const line of lines) process.stdout.write(`${line}\n`);
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
