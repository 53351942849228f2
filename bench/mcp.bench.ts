/**
 * `npm run bench:mcp`: what Gatehouse adds to a call of an upstream MCP tool. The official
 * `@modelcontextprotocol/server-filesystem` over stdio, `read_text_file` of one small file:
 * called directly with the MCP SDK's `Client`, and through Gatehouse (the MCP SDK `Client` over
 * Streamable HTTP to the gateway's `/mcp`: authentication, the session workflow, policy, the
 * write-ahead audit, the ledger, then the same upstream through the worker's connection).
 * Latency of sequential calls (interleaved), then calls per second over 20 concurrent MCP sessions.
 * The upstream runs with `timeoutMs: 10000`, so its calls are local activities. Last line: one JSON object.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createCatalog } from '../activities/tools/catalog';
import { UpstreamManager, type NamedUpstream } from '../activities/upstreams';
import { publishedUpstreamTools } from '../gateway/mcp/upstream-tools';
import { parsePolicy } from '../policies';
import { BENCH_POLICY } from './fixtures/policy';
import { pct } from './fixtures/percentile';
import { startBenchGateway, startBenchWorker, timed } from './fixtures/worker';

const CALLS = Number(process.env.BENCH_CALLS ?? 200);
const SESSIONS = 20;
const PER_SESSION = Number(process.env.BENCH_PER_SESSION ?? 10);
const TOOL = 'read_text_file';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-mcp-'));
  const file = join(dir, 'notes.txt');
  writeFileSync(file, 'a small file the agent reads again and again\n');
  const bin = require.resolve('@modelcontextprotocol/server-filesystem/dist/index.js');
  const upstream: NamedUpstream = { name: 'filesystem', command: process.execPath, args: [bin, dir], env: {}, timeoutMs: 10_000, maxAttempts: 3, sensitive: {} };
  const parsed = parsePolicy({ ...BENCH_POLICY, upstreamTools: { 'filesystem.read_*': { effect: 'read', idempotent: true } } });
  if (!parsed.success) throw new Error(JSON.stringify(parsed.issues));

  let upstreams: UpstreamManager | undefined;
  const bench = await startBenchWorker({
    name: 'mcp',
    policy: parsed.data,
    catalog: async (production, audit) => {
      const catalog = createCatalog([], { database: production.pool });
      upstreams = new UpstreamManager({ servers: [upstream], catalog, publish: audit.pool });
      await upstreams.start();
      return catalog;
    },
    workerOptions: { maxConcurrentLocalActivityExecutions: 200 },
    afterWorker: async () => upstreams?.close(),
  });
  const { servers, trust } = bench;
  const gateway = await startBenchGateway(bench, { upstreamTools: publishedUpstreamTools(bench.audit.pool) });

  const direct = new Client({ name: 'bench-direct', version: '1' });
  await direct.connect(new StdioClientTransport({ command: process.execPath, args: [bin, dir], stderr: 'ignore' }));
  const viaGatehouse = async (agentId: string): Promise<Client> => {
    const token = await trust.credential(agentId, 'bench');
    const c = new Client({ name: agentId, version: '1' });
    const headers = { authorization: `Bearer ${token}`, 'x-gatehouse-intent': 'read the notes file again and again' };
    await c.connect(new StreamableHTTPClientTransport(new URL(gateway.mcpUrl), { requestInit: { headers } }));
    return c;
  };
  const callDirect = async () => {
    const r = await direct.callTool({ name: TOOL, arguments: { path: file } });
    if (r.isError) throw new Error(`direct call failed: ${JSON.stringify(r.content)}`);
  };
  const callGatehouse = async (c: Client) => {
    const r = await c.callTool({ name: `filesystem.${TOOL}`, arguments: { path: file } });
    const status = (r.structuredContent as { status?: string } | undefined)?.status;
    if (status !== 'executed') throw new Error(`gatehouse call ${String(status)}: ${JSON.stringify(r.content)}`);
  };

  const clients: Client[] = [];
  try {
    const gated = await viaGatehouse('bench-agent');
    clients.push(gated);
    for (let i = 0; i < 20; i++) {
      await callDirect();
      await callGatehouse(gated);
    }
    const d: number[] = [];
    const g: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      d.push(await timed(callDirect));
      g.push(await timed(() => callGatehouse(gated)));
    }
    d.sort((a, b) => a - b);
    g.sort((a, b) => a - b);

    const many = await Promise.all(Array.from({ length: SESSIONS }, (_, i) => viaGatehouse(`bench-${i}`)));
    clients.push(...many);
    for (const c of many) await callGatehouse(c); // each session started before the clock runs
    const seconds = (await timed(() => Promise.all(many.map(async (c) => { for (let k = 0; k < PER_SESSION; k++) await callGatehouse(c); })).then(() => undefined))) / 1000;

    const figures = {
      direct_p50_ms: pct(d, 50),
      gatehouse_p50_ms: pct(g, 50),
      added_p50_ms: Math.round((pct(g, 50) - pct(d, 50)) * 100) / 100,
      gatehouse_per_s: Math.round((SESSIONS * PER_SESSION) / seconds),
    };
    process.stdout.write(`server: temporal dev server (in memory) at ${servers.temporalAddress}; one in-process worker and gateway; upstream @modelcontextprotocol/server-filesystem over stdio; ${CALLS} sequential \`${TOOL}\` calls per path after 20 warm-up, interleaved; throughput ${SESSIONS} MCP sessions x ${PER_SESSION} calls\n`);
    process.stdout.write(`direct: p50 ${pct(d, 50)} ms, p99 ${pct(d, 99)} ms; gatehouse: p50 ${pct(g, 50)} ms, p99 ${pct(g, 99)} ms, ${figures.gatehouse_per_s}/s over ${SESSIONS} sessions\n`);
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    await direct.close();
    await gateway.close();
    await bench.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:mcp: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
