/**
 * `npm run bench:peers`: Gatehouse beside a peer gateway, IBM ContextForge (issue #28 item 5). One
 * upstream, `@modelcontextprotocol/server-everything` over Streamable HTTP, its `echo` tool, called
 * by one client (the Python `mcp` package, bench/peers_client.py) three ways in one interleaved run:
 * directly, through ContextForge (installed once under ~/.cache/gatehouse, stateful sessions,
 * SQLite, one worker, JWT auth) and through Gatehouse (gateway `/mcp` → session workflow → policy →
 * write-ahead audit and ledger → the worker's upstream connection, as in bench:mcp). Latency p50/p99
 * and what each gateway adds over the direct call, then sequential and 8-concurrent calls/s, with
 * the CPU each process spent per call in the concurrent blocks. A fourth path, the **temporal floor**
 * (bench/fixtures/mcp-floor.ts), is the same upstream call as a plain local activity behind an update
 * on the same Temporal server, behind a bare MCP front door, no Gatehouse: Gatehouse's own share is
 * what it adds over that, measured in the same run. Not part of `npm test`: it installs
 * a large package. `BENCH_CALLS` (300), `BENCH_ROUNDS` (3), `BENCH_PER_CALLER` (25) size it; `BENCH_PHASES`
 * prints each concurrent block's window for slicing a `--cpu-prof` profile. Last line: one JSON object.
 */
import { execFileSync, spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createCatalog } from '../activities/tools/catalog';
import { UpstreamManager, type NamedUpstream } from '../activities/upstreams';
import { publishedUpstreamTools } from '../gateway/mcp/upstream-tools';
import { parsePolicy } from '../policies';
import { eventually } from '../test/support/eventually';
import { freePort } from '../worker/devstack/ports';
import { venvPython } from '../worker/devstack/python-venv';
import { findTemporalCli } from '../worker/devstack/temporal-binary';
import { cpuSecondsOfTree, ownCpuSeconds, pidListeningOn, processes } from './fixtures/cpu';
import { ensureContextForge, startContextForge } from './fixtures/contextforge';
import { BENCH_POLICY } from './fixtures/policy';
import { startMcpFloor } from './fixtures/mcp-floor';
import { startBenchGateway, startBenchWorker } from './fixtures/worker';

const ROOT = join(__dirname, '..');
const CALLS = Number(process.env.BENCH_CALLS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PER_CALLER = Number(process.env.BENCH_PER_CALLER ?? 25);
const CONCURRENCY = 8;
const TOOL = 'echo';
const PATHS = ['direct', 'contextforge', 'floor', 'gatehouse'] as const;
type Path = (typeof PATHS)[number];

interface PathResult { p50_ms: number; p99_ms: number; seq_per_s: number; conc_per_s: number; conc_calls: number }

const say = (line: string) => process.stderr.write(`bench:peers: ${line}\n`);
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const round = (n: number) => Math.round(n * 100) / 100;

/** server-everything over Streamable HTTP on a free port (it listens on every interface: not ours to change). */
async function startUpstream(): Promise<{ url: string; pid: number; version: string; sessions(): number; stop(): void }> {
  const port = await freePort();
  const bin = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');
  const child = spawn(process.execPath, [bin, 'streamableHttp'], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  // It logs each MCP session it opens: how many the gateways opened says whether ContextForge kept its upstream sessions.
  let sessions = 0;
  createInterface({ input: child.stdout }).on('line', (line) => { if (line.startsWith('Session initialized')) sessions++; });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-4000); });
  await eventually(() => {
    if (child.exitCode !== null) throw new Error(`server-everything exited ${child.exitCode}: ${stderr.trim()}`);
    return /listening on port/.test(stderr);
  }, { what: 'server-everything to listen', timeoutMs: 60_000 });
  const version = (require('@modelcontextprotocol/server-everything/package.json') as { version: string }).version;
  return { url: `http://127.0.0.1:${port}/mcp`, pid: child.pid ?? 0, version, sessions: () => sessions, stop: () => child.kill('SIGTERM') };
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const loadBefore = load();
  const install = await ensureContextForge(say);
  const upstream = await startUpstream();
  const server: NamedUpstream = { name: 'everything', url: upstream.url, headers: {}, timeoutMs: 10_000, maxAttempts: 3, sensitive: {} };
  const parsed = parsePolicy({ ...BENCH_POLICY, upstreamTools: { 'everything.echo': { effect: 'read', idempotent: true } } });
  if (!parsed.success) throw new Error(JSON.stringify(parsed.issues));
  let upstreams: UpstreamManager | undefined;
  // Both start at once; whichever started is stopped when the other fails.
  const [cf, gh] = await Promise.allSettled([
    startContextForge(install, upstream.url, TOOL),
    startBenchWorker({
      name: 'peers',
      policy: parsed.data,
      catalog: async (production, audit) => {
        const catalog = createCatalog([], { database: production.pool });
        upstreams = new UpstreamManager({ servers: [server], catalog, publish: audit.pool });
        await upstreams.start();
        return catalog;
      },
      workerOptions: { maxConcurrentLocalActivityExecutions: 200 },
      afterWorker: async () => upstreams?.close(),
    }),
  ]);
  if (cf.status === 'rejected' || gh.status === 'rejected') {
    if (cf.status === 'fulfilled') await cf.value.stop();
    if (gh.status === 'fulfilled') await gh.value.stop();
    upstream.stop();
    throw cf.status === 'rejected' ? cf.reason : (gh as PromiseRejectedResult).reason;
  }
  const contextforge = cf.value;
  const bench = gh.value;
  try {
    const gateway = await startBenchGateway(bench, { upstreamTools: publishedUpstreamTools(bench.audit.pool) });
    const floor = await startMcpFloor({ temporalAddress: bench.servers.temporalAddress, namespace: bench.servers.namespace, upstreamUrl: upstream.url, tool: TOOL });
    try {
      const gatehouseSessions = await Promise.all(Array.from({ length: CONCURRENCY }, async (_, i) => ({
        authorization: `Bearer ${await bench.trust.credential(`bench-peer-${i}`, 'bench')}`,
        'x-gatehouse-intent': 'echo a message again and again',
      })));
      const plan = {
        arguments: { message: 'hello from bench:peers' },
        warmup: 20,
        calls: CALLS,
        rounds: ROUNDS,
        per_caller: PER_CALLER,
        targets: [
          { name: 'direct', url: upstream.url, tool: TOOL, sessions: Array.from({ length: CONCURRENCY }, () => ({})) },
          { name: 'contextforge', url: contextforge.mcpUrl, tool: contextforge.tool, sessions: Array.from({ length: CONCURRENCY }, () => contextforge.headers) },
          { name: 'floor', url: floor.mcpUrl, tool: TOOL, sessions: Array.from({ length: CONCURRENCY }, () => ({})) },
          { name: 'gatehouse', url: gateway.mcpUrl, tool: 'everything.echo', sessions: gatehouseSessions },
        ],
      };
      const temporalPid = pidListeningOn(Number(bench.servers.temporalAddress.split(':').pop()));
      const postgresPid = pidListeningOn(bench.servers.postgres.port);
      const { result, cpu, client } = await runClient(plan, { contextforge: contextforge.pid, upstream: upstream.pid, temporal: temporalPid, postgres: postgresPid });
      report(result, cpu, { loadBefore, loadAfter: load(), contextforge: install, upstream: upstream.version, upstreamSessions: upstream.sessions(), client, temporalCli: await findTemporalCli() });
    } finally {
      await floor.stop();
      await gateway.close();
    }
  } finally {
    await contextforge.stop();
    await bench.stop();
    upstream.stop();
  }
}

type Cpu = Record<string, number>;

/** Runs the client; at each of its marks, reads the CPU seconds of every process that serves a path. */
async function runClient(plan: unknown, pids: { contextforge: number; upstream: number; temporal?: number; postgres?: number }): Promise<{ result: Record<Path, PathResult>; cpu: Record<Path, Cpu>; client: string }> {
  const child = spawn(venvPython(ROOT), [join(__dirname, 'peers_client.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-4000); });
  // This process is Gatehouse's gateway and worker: its own CPU is read inside the block's edges,
  // so reading /proc (in this process) counts for nobody.
  const sample = (edge: 'start' | 'end'): Cpu => {
    const before = ownCpuSeconds();
    const all = processes();
    const tree = (pid: number | undefined) => (pid === undefined ? 0 : cpuSecondsOfTree(pid, all));
    const others = { client: tree(child.pid), upstream: tree(pids.upstream), contextforge: tree(pids.contextforge), temporal: tree(pids.temporal), postgres: tree(pids.postgres) };
    return { ...others, gatehouse: edge === 'start' ? ownCpuSeconds() : before };
  };
  const spent: Record<Path, Cpu> = { direct: {}, contextforge: {}, floor: {}, gatehouse: {} };
  let started: Cpu = {};
  let startedUs = 0n;
  let result: Record<Path, PathResult> | undefined;
  const exited = new Promise<number | null>((done) => child.once('exit', done));
  child.stdin.write(`${JSON.stringify(plan)}\n`);
  for await (const line of createInterface({ input: child.stdout })) {
    const msg = JSON.parse(line) as { mark?: string; result?: Record<Path, PathResult> };
    if (msg.mark !== undefined) {
      const [path, edge] = msg.mark.split(':') as [Path, 'start' | 'end'];
      if (edge === 'start') {
        started = sample('start');
        startedUs = process.hrtime.bigint() / 1000n;
      } else {
        // The block's window on the monotonic clock a `--cpu-prof` profile stamps its samples with.
        if (process.env.BENCH_PHASES) say(`phase\t${path}\t${startedUs}\t${process.hrtime.bigint() / 1000n}`);
        for (const [k, v] of Object.entries(sample('end'))) spent[path][k] = (spent[path][k] ?? 0) + v - (started[k] ?? 0);
      }
      child.stdin.write('\n');
    } else if (msg.result !== undefined) result = msg.result;
  }
  const code = await exited;
  if (code !== 0 || result === undefined) throw new Error(`the python client exited ${String(code)}: ${stderr.trim().slice(-2000)}`);
  const cpu = Object.fromEntries(PATHS.map((p) => [p, Object.fromEntries(Object.entries(spent[p]).map(([k, s]) => [k, round((s * 1000) / result![p].conc_calls)]))])) as Record<Path, Cpu>;
  const client = execFileSync(venvPython(ROOT), ['-c', 'import importlib.metadata as m, sys; print("mcp %s, python %d.%d" % (m.version("mcp"), *sys.version_info[:2]))']).toString().trim();
  return { result, cpu, client };
}

function report(r: Record<Path, PathResult>, cpu: Record<Path, Cpu>, about: { loadBefore: string; loadAfter: string; contextforge: { version: string; python: string }; upstream: string; upstreamSessions: number; client: string; temporalCli: string }): void {
  const { direct: d, contextforge: c, floor: f, gatehouse: g } = r;
  const cpuLine = (p: Path, keys: string[]) => keys.map((k) => `${k} ${cpu[p][k] ?? 0}`).join(', ');
  // This process runs both Gatehouse (gateway and worker) and the floor's front door and worker.
  const own = (p: Path) => round((cpu[p].gatehouse ?? 0) + (cpu[p].temporal ?? 0) + (cpu[p].postgres ?? 0));
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`machine load (1/5/15 min): before ${about.loadBefore}, after ${about.loadAfter}`);
  out(`contextforge ${about.contextforge.version} (python ${about.contextforge.python}; stateful sessions, sqlite, one uvicorn worker, jwt); gatehouse on the temporal dev server in memory (${about.temporalCli}), postgres without fsync; temporal floor: a plain local activity behind an update on the same server, behind a bare MCP front door; upstream server-everything ${about.upstream} echo over streamable http; client: python ${about.client}`);
  out(`${CALLS} interleaved calls per path after 20 warm-up; throughput: ${ROUNDS} rounds x (${PER_CALLER} sequential, ${CONCURRENCY} sessions x ${PER_CALLER} concurrent) per path, in rotating order`);
  out('path          p50 ms   p99 ms   added p50   added p99   seq/s   8c/s');
  for (const [name, x] of [['direct', d], ['contextforge', c], ['floor', f], ['gatehouse', g]] as const) {
    const added = name === 'direct' ? ['', ''] : [round(x.p50_ms - d.p50_ms).toString(), round(x.p99_ms - d.p99_ms).toString()];
    out(`${name.padEnd(12)}  ${String(x.p50_ms).padStart(6)}   ${String(x.p99_ms).padStart(6)}   ${added[0]!.padStart(9)}   ${added[1]!.padStart(9)}   ${String(x.seq_per_s).padStart(5)}   ${String(x.conc_per_s).padStart(4)}`);
  }
  out(`gatehouse over the temporal floor: p50 ${round(g.p50_ms - f.p50_ms)} ms, p99 ${round(g.p99_ms - f.p99_ms)} ms`);
  out(`upstream MCP sessions opened in all: ${about.upstreamSessions} (the client's ${CONCURRENCY} direct ones, ContextForge's, the floor's one, Gatehouse's; one per call would be thousands)`);
  out(`cpu ms per call, 8 concurrent: direct: ${cpuLine('direct', ['client', 'upstream'])}; contextforge: ${cpuLine('contextforge', ['client', 'upstream', 'contextforge'])}; floor: ${cpuLine('floor', ['client', 'upstream', 'gatehouse', 'temporal', 'postgres'])}; gatehouse: ${cpuLine('gatehouse', ['client', 'upstream', 'gatehouse', 'temporal', 'postgres'])} (the floor's own process is this one: its column says gatehouse)`);
  const figures = {
    temporal: 'dev-memory',
    contextforge_version: about.contextforge.version,
    direct_p50_ms: d.p50_ms,
    direct_p99_ms: d.p99_ms,
    contextforge_p50_ms: c.p50_ms,
    contextforge_p99_ms: c.p99_ms,
    gatehouse_p50_ms: g.p50_ms,
    gatehouse_p99_ms: g.p99_ms,
    temporal_floor_p50_ms: f.p50_ms,
    temporal_floor_p99_ms: f.p99_ms,
    contextforge_added_p50_ms: round(c.p50_ms - d.p50_ms),
    contextforge_added_p99_ms: round(c.p99_ms - d.p99_ms),
    gatehouse_added_p50_ms: round(g.p50_ms - d.p50_ms),
    gatehouse_added_p99_ms: round(g.p99_ms - d.p99_ms),
    temporal_floor_added_p50_ms: round(f.p50_ms - d.p50_ms),
    gatehouse_over_floor_p50_ms: round(g.p50_ms - f.p50_ms),
    gatehouse_over_floor_p99_ms: round(g.p99_ms - f.p99_ms),
    gatehouse_vs_contextforge_added_p50: round((g.p50_ms - d.p50_ms) / (c.p50_ms - d.p50_ms)),
    direct_seq_per_s: d.seq_per_s,
    contextforge_seq_per_s: c.seq_per_s,
    temporal_floor_seq_per_s: f.seq_per_s,
    gatehouse_seq_per_s: g.seq_per_s,
    direct_8c_per_s: d.conc_per_s,
    contextforge_8c_per_s: c.conc_per_s,
    temporal_floor_8c_per_s: f.conc_per_s,
    gatehouse_8c_per_s: g.conc_per_s,
    contextforge_cpu_ms_per_call: cpu.contextforge.contextforge,
    temporal_floor_cpu_ms_per_call: own('floor'),
    gatehouse_cpu_ms_per_call: own('gatehouse'),
    upstream_sessions: about.upstreamSessions,
    load_before: about.loadBefore,
    load_after: about.loadAfter,
  };
  out(JSON.stringify(figures));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:peers: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
