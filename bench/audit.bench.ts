/**
 * Audit-trail benchmark (`npm run bench:audit`): on a fresh embedded PostgreSQL (fsync on, as
 * `gatehouse start` runs it),
 * 1. events written per second the way the worker writes them: per proposal, one append of the
 *    write-ahead events (proposed, decided) and one of the outcome (executed), many sessions
 *    concurrently through one pool;
 * 2. the latency of `trace` (read + build + render, as `gatehouse trace` does, without process
 *    start-up) for a session of 10,000 events, median of 3.
 * Last line: `{"events_per_s":…,"trace_10k_ms":…}`.
 */
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../audit/migrate';
import { AuditStore } from '../audit/store';
import { loadTrace, renderTraceText } from '../audit/trace';
import type { AuditEventInput, SessionRecord } from '../audit/types';
import type { Decision } from '../policies/types';
import { startEmbeddedPostgres } from '../worker/devstack/postgres';
import { cpuSecondsOfTree } from './fixtures/cpu';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 64);
const PROPOSALS = Number(process.env.BENCH_PROPOSALS ?? 60);
const POOL = Number(process.env.BENCH_POOL ?? 10);
/** Group commits in flight (`AuditStore` option `maxFlushes`); the store's default when unset. */
const FLUSHES = process.env.BENCH_FLUSHES ? Number(process.env.BENCH_FLUSHES) : undefined;
const TRACE_EVENTS = 10_000;
/** `BENCH_FSYNC=off` measures without fsync (what the test suite's servers do), for comparison. */
const NO_FSYNC = process.env.BENCH_FSYNC === 'off';

const POLICY_HASH = 'c'.repeat(64);
const DECISION: Decision = {
  verdict: 'allow',
  tier: 'autonomous',
  reasons: [{ rule: 'tier.read', message: 'read tool `billing.query` on production runs autonomously (tier table)' }],
  policyHash: POLICY_HASH,
};

function record(sessionId: string, startedAt: number): SessionRecord {
  return {
    sessionId, workflowId: `session-${sessionId}`, agentId: 'bench-bot', owner: 'eng-007', intent: 'benchmark the audit trail',
    policyHash: POLICY_HASH, policy: { version: 1, name: 'bench' }, startedAt: new Date(startedAt).toISOString(),
  };
}

/** The two appends of proposal `p` (1-based) of a session: write-ahead, then outcome. */
function proposalBatches(sessionId: string, p: number, t0: number): [AuditEventInput[], AuditEventInput[]] {
  const seq = 1 + (p - 1) * 3; // seq 1.. (no session-started event: every event is a proposal's)
  const at = new Date(t0 + p * 1000).toISOString();
  const base = { sessionId, at, proposalSeq: p, tool: 'billing.query' } as const;
  const args = { customer: `cust-${p % 17}`, period: '2026-10', limit: 100 };
  return [
    [
      { ...base, seq, kind: 'proposed', args, reasoning: 'look up last month before cleaning up', tokenCost: 850 },
      { ...base, seq: seq + 1, kind: 'decided', decision: DECISION },
    ],
    [{ ...base, seq: seq + 2, kind: 'executed', args, latencyMs: 14, resultStatus: 'executed', detail: { idempotencyKey: `${sessionId}:${p}`, result: { rows: 12 } } }],
  ];
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-audit-'));
  const server = await startEmbeddedPostgres({ dataDir, removeDataDirOnStop: true, noFsync: NO_FSYNC });
  try {
    await server.createDatabase('bench_audit');
    const pool = new pg.Pool({ connectionString: server.urlFor('bench_audit'), max: POOL });
    pool.on('error', () => undefined); // the server's shutdown may reach a client the pool is closing
    await migrate(pool);
    const store = new AuditStore(pool, FLUSHES !== undefined ? { maxFlushes: FLUSHES } : {});
    const t0 = Date.now();

    // 1. Throughput.
    const ids = Array.from({ length: SESSIONS }, (_, i) => `bench-${i}`);
    await Promise.all(ids.map((id) => store.startSession(record(id, t0))));
    const started = performance.now();
    const cpu = process.cpuUsage();
    const pgCpu = cpuSecondsOfTree(server.pid);
    await Promise.all(ids.map(async (id) => {
      for (let p = 1; p <= PROPOSALS; p += 1) {
        const [ahead, outcome] = proposalBatches(id, p, t0);
        await store.append(ahead);
        await store.append(outcome);
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const nodeCpuS = (used.user + used.system) / 1e6;
    const pgCpuS = cpuSecondsOfTree(server.pid) - pgCpu;
    const events = SESSIONS * PROPOSALS * 3;
    const eventsPerS = Math.round(events / seconds);
    console.log(`append: ${events} events in ${SESSIONS} concurrent sessions (${PROPOSALS} proposals each, 2 appends per proposal, pool ${POOL}, fsync ${NO_FSYNC ? 'off' : 'on'}): ${seconds.toFixed(2)} s = ${eventsPerS} events/s; CPU used: this process ${nodeCpuS.toFixed(2)} s, postgres ${pgCpuS.toFixed(2)} s (${Math.round(((nodeCpuS + pgCpuS) / events) * 1e6)} µs per event); load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

    // 2. Trace of a 10,000-event session (written in large batches: only the read is timed).
    const big = 'bench-trace-10k';
    await store.startSession(record(big, t0));
    const proposals = Math.ceil(TRACE_EVENTS / 3);
    let batch: AuditEventInput[] = [];
    for (let p = 1; p <= proposals; p += 1) {
      const [a, b] = proposalBatches(big, p, t0);
      batch.push(...a, ...b);
      if (batch.length >= 900 || p === proposals) {
        await store.append(batch.filter((e) => e.seq <= TRACE_EVENTS));
        batch = [];
      }
    }
    const timings: number[] = [];
    let lines = 0;
    for (let run = 0; run < 3; run += 1) {
      const t = performance.now();
      const trace = await loadTrace(pool, big);
      lines = renderTraceText(trace).split('\n').length;
      timings.push(performance.now() - t);
      if (trace.eventCount !== TRACE_EVENTS) throw new Error(`trace read ${trace.eventCount} events, expected ${TRACE_EVENTS}`);
    }
    timings.sort((a, b) => a - b);
    const traceMs = Math.round(timings[1]!);
    console.log(`trace: ${TRACE_EVENTS} events, ${lines} lines: runs ${timings.map((t) => t.toFixed(0)).join(', ')} ms, median ${traceMs} ms`);
    await pool.end();
    console.log(JSON.stringify({ events_per_s: eventsPerS, trace_10k_ms: traceMs }));
  } finally {
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
