/**
 * `npm run bench:sessions`: many sessions open at once on one worker. `BENCH_SESSIONS` (1,000)
 * sessions start, then each proposes the read tool, waits `BENCH_PAUSE_MS` (3 s) after every
 * answer and proposes again, for `BENCH_SECONDS` (180); then every session ends and is checked.
 *
 * Prints proposals/s and latency, the process's RSS and heap per open session (worker and client
 * share this process: the client side is a handle per session), the worker's sticky-cache hits and
 * misses (from the SDK's own Prometheus metrics) and sessions lost: a session is lost when a
 * proposal or its end failed, or when its own counters disagree with the calls its agent saw
 * answered. `BENCH_CACHE` sets `maxCachedWorkflows` (default: one per session), to see what
 * happens past the cache size. `BENCH_WORKERS` (1) > 1 adds worker processes (`worker/main.ts`, the
 * production entry point, with `GATEHOUSE_MAX_CACHED_SESSIONS` = `BENCH_CACHE`) on the same task
 * queue; their RSS is sampled from /proc and added in. `BENCH_SESSIONS_PART=replay` measures instead
 * what a replay costs by history length (bench/fixtures/replay-cost.ts), `=heap` the sandbox's heap per
 * cached session (bench/fixtures/sandbox-heap.ts). `BENCH_HISTORY_LIMIT` sets the worker's
 * `sessionHistoryLimit` (default: the worker's, 600 or 120 events by its cache; 10000 runs the old bound); `BENCH_START_CONCURRENCY`
 * (50) how many sessions start (and end) at once: keep it well below `BENCH_CACHE`. Last line: one JSON object.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { pct } from './fixtures/percentile';
import { BENCH_POLICY } from './fixtures/policy';
import { startWorkerProcess, type WorkerProcess } from '../worker/devstack/worker-process';
import { writeTestKeys } from '../test/support/trust';
import { startBenchWorker } from './fixtures/worker';
import { setTimeout as sleep } from 'node:timers/promises';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Gatehouse, type SessionHandle } from '../client';
import { freePort } from '../worker/devstack/ports';
import { replayCost } from './fixtures/replay-cost';
import { sandboxHeap } from './fixtures/sandbox-heap';

const TOOL = 'volumes.list';
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 180);
const PAUSE_MS = Number(process.env.BENCH_PAUSE_MS ?? 3000);
const CACHE = Number(process.env.BENCH_CACHE ?? SESSIONS);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
const HISTORY_LIMIT = process.env.BENCH_HISTORY_LIMIT ? Number(process.env.BENCH_HISTORY_LIMIT) : undefined;
const START_CONCURRENCY = Number(process.env.BENCH_START_CONCURRENCY ?? 50);
const MB = 1024 * 1024;

/** Sum of every sample of a metric in a Prometheus text page (all label sets). */
function metric(page: string, name: string): number {
  let sum = 0;
  for (const line of page.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1]!.endsWith(name)) sum += Number(m[3]);
  }
  return sum;
}

/** Resident set size of another process, from /proc (0 once it has gone). */
function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** `count` worker processes on the bench's task queue, as a deployment runs them. */
async function startExtraWorkers(bench: Awaited<ReturnType<typeof startBenchWorker>>, dir: string, count: number): Promise<WorkerProcess[]> {
  const policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(BENCH_POLICY));
  const keysFile = writeTestKeys(join(dir, 'keys'));
  const connection = await Connection.connect({ address: bench.temporal.address });
  process.env.GATEHOUSE_MAX_CACHED_SESSIONS = String(CACHE);
  try {
    return await Promise.all(Array.from({ length: count }, (_, i) => startWorkerProcess({
      temporalAddress: bench.temporal.address,
      namespace: bench.temporal.namespace,
      taskQueue: bench.temporal.taskQueue,
      databaseUrl: bench.audit.url,
      productionDatabaseUrl: bench.production.url,
      policyFile,
      keysFile,
      dataDir: join(dir, `worker-${i}`),
      workflowService: connection.workflowService,
    })));
  } finally {
    delete process.env.GATEHOUSE_MAX_CACHED_SESSIONS;
    await connection.close();
  }
}

/** `fn` over every item, at most `size` at a time (a pool: one slow item does not hold a batch back); results in order. */
async function inBatches<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

async function main(): Promise<void> {
  if (process.env.BENCH_SESSIONS_PART === 'heap') {
    process.stdout.write(`${JSON.stringify(await sandboxHeap(Number(process.env.BENCH_SESSIONS ?? 200), process.env.BENCH_SHARED_MODULES !== '0'))}\n`);
    process.exit(0);
  }
  const metricsPort = await freePort();
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${metricsPort}` } } } });
  const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  // The replay part grows one run past every checkpoint: no continue-as-new there.
  const limit = process.env.BENCH_SESSIONS_PART === 'replay' ? 1_000_000 : HISTORY_LIMIT;
  const bench = await startBenchWorker({ name: 'sessions', workerOptions: { maxCachedWorkflows: CACHE }, ...(limit !== undefined ? { sessionHistoryLimit: limit } : {}) });
  const { servers, trust } = bench;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-sessions-'));
  const extra = WORKERS > 1 ? await startExtraWorkers(bench, dir, WORKERS - 1) : [];
  const gh = await Gatehouse.connect({ ...bench.temporal, issuer: trust.operator });

  if (process.env.BENCH_SESSIONS_PART === 'replay') {
    try {
      process.stdout.write(`${JSON.stringify(await replayCost(gh))}\n`);
    } finally {
      await gh.close();
      await bench.stop();
    }
    process.exit(0);
  }

  try {
    global.gc?.();
    const before = process.memoryUsage();
    const extraBefore = extra.map((w) => rssOf(w.pid));
    const extraPeak = [...extraBefore];
    const startedAt = performance.now();
    const sessions: SessionHandle[] = await inBatches(Array.from({ length: SESSIONS }, (_, i) => i), START_CONCURRENCY, (i) =>
      gh.startSession({ agentId: `fleet-${i}`, owner: 'bench', intent: 'list volumes and where they are mounted' }),
    );
    const startSeconds = (performance.now() - startedAt) / 1000;
    process.stdout.write(`${SESSIONS} sessions started in ${startSeconds.toFixed(1)} s\n`);

    const latencies: number[] = [];
    const answered = new Map<string, number>();
    const failures = new Map<string, string>();
    const deadline = Date.now() + SECONDS * 1000;
    const metricsBefore = await scrape();
    let peakRss = 0;
    let peakHeap = 0;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
      extra.forEach((w, i) => (extraPeak[i] = Math.max(extraPeak[i]!, rssOf(w.pid))));
    }, 1000);
    const loadStarted = performance.now();
    const cpuBefore = process.cpuUsage();
    await Promise.all(
      sessions.map(async (s, i) => {
        // Spread the first proposals over one pause, so the sessions do not move in lockstep.
        // No sleep past the deadline: with long pauses the run would wait a whole pause for nothing.
        const untilDeadline = (): number => Math.max(0, deadline - Date.now());
        await sleep(Math.min((PAUSE_MS * i) / SESSIONS, untilDeadline()));
        while (Date.now() < deadline && !failures.has(s.sessionId)) {
          const t = performance.now();
          try {
            const r = await s.propose({ tool: TOOL, args: {}, reasoning: 'list volumes' });
            if (r.status !== 'executed') throw new Error(`${r.status}: ${JSON.stringify(r.decision.reasons)}`);
            latencies.push(performance.now() - t);
            answered.set(s.sessionId, (answered.get(s.sessionId) ?? 0) + 1);
          } catch (err) {
            failures.set(s.sessionId, err instanceof Error ? err.message : String(err));
          }
          await sleep(Math.min(PAUSE_MS, untilDeadline()));
        }
      }),
    );
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    clearInterval(sampler);
    const metricsAfter = await scrape();
    const status = bench.worker.getStatus();

    // Every session ends, and its own count must match what its agent saw answered.
    const ends = await inBatches(sessions, START_CONCURRENCY, async (s) => {
      try {
        const summary = await s.end({ reason: 'bench done' });
        return summary.counters.executed === (answered.get(s.sessionId) ?? 0) && !failures.has(s.sessionId);
      } catch (err) {
        failures.set(s.sessionId, `end: ${err instanceof Error ? err.message : String(err)}`);
        return false;
      }
    });
    const lost = ends.filter((ok) => !ok).length;
    for (const [id, why] of [...failures].slice(0, 5)) process.stdout.write(`lost ${id}: ${why}\n`);

    latencies.sort((a, b) => a - b);
    const hits = metric(metricsAfter, 'sticky_cache_hit') - metric(metricsBefore, 'sticky_cache_hit');
    const misses = metric(metricsAfter, 'sticky_cache_miss') - metric(metricsBefore, 'sticky_cache_miss');
    const figures = {
      temporal: 'dev-memory',
      sessions_open: SESSIONS,
      started_per_s: Math.round((SESSIONS / startSeconds) * 10) / 10,
      proposals_per_s: Math.round(latencies.length / loadSeconds),
      // Each session waits the pause after every answer: the demand is at most this.
      offered_per_s_at_most: Math.round((SESSIONS / (PAUSE_MS / 1000)) * 10) / 10,
      // This process (the worker and the client's handles), all threads: what a proposal costs it.
      process_cpu_ms_per_proposal: latencies.length ? Math.round(((cpu.user + cpu.system) / 1000 / latencies.length) * 100) / 100 : null,
      p50_ms: pct(latencies, 50),
      p99_ms: pct(latencies, 99),
      rss_mb_per_1000: Math.round((((peakRss - before.rss + extraPeak.reduce((a, p, i) => a + p - extraBefore[i]!, 0)) / MB) * 1000) / SESSIONS),
      heap_mb_per_1000: Math.round((((peakHeap - before.heapUsed) / MB) * 1000) / SESSIONS),
      cache_hit_rate: hits + misses > 0 ? Math.round((hits / (hits + misses)) * 1000) / 1000 : null,
      lost,
      workers: WORKERS,
      history_limit: HISTORY_LIMIT ?? 'worker default',
    };
    process.stdout.write(
      `server: temporal dev server at ${servers.temporalAddress}; one in-process worker (maxCachedWorkflows ${CACHE}, ${status.numCachedWorkflows} cached at the end)` +
        `${extra.length ? ` and ${extra.length} worker process(es) (GATEHOUSE_MAX_CACHED_SESSIONS ${CACHE}; peak RSS ${extraPeak.map((p) => Math.round(p / MB)).join(', ')} MB)` : ''}; ` +
        `${SESSIONS} sessions, each proposing \`${TOOL}\` then pausing ${PAUSE_MS} ms, for ${SECONDS} s; ${latencies.length} proposals; ` +
        `cache hits ${hits}, misses ${misses}; peak RSS ${Math.round(peakRss / MB)} MB (${Math.round(before.rss / MB)} MB before the sessions)\n`,
    );
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await gh.close();
    await Promise.all(extra.map((w) => w.stop()));
    await bench.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
