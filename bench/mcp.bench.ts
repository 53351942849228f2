/**
 * `npm run bench:mcp`: what Gatehouse adds to a call of an upstream MCP tool. The official
 * `@modelcontextprotocol/server-filesystem` over stdio, `read_text_file` of one small file:
 * called directly with the MCP SDK's `Client`, and through Gatehouse (the MCP SDK `Client` over
 * Streamable HTTP to the gateway's `/mcp`: authentication, the session workflow, policy, the
 * write-ahead audit, the ledger, then the same upstream through the worker's connection).
 * Latency of sequential calls (interleaved), then calls per second over 20 concurrent MCP sessions.
 * The upstream runs with `timeoutMs: 10000`, so its calls are local activities. A third path is the
 * floor of any durable design: the same upstream call as a plain local activity behind an update on
 * the same Temporal server, without Gatehouse (`temporal_floor_p50_ms`); the goal (≤ 10 ms added)
 * is judged against it too. Last line: one JSON object.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { randomBytes } from 'node:crypto';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
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

  // The floor: the same upstream call as a plain local activity behind an update, no Gatehouse.
  const floorUpstream = new Client({ name: 'bench-floor', version: '1' });
  await floorUpstream.connect(new StdioClientTransport({ command: process.execPath, args: [bin, dir], stderr: 'ignore' }));
  const floorQueue = `${bench.temporal.taskQueue}-floor`;
  const floorConnection = await NativeConnection.connect({ address: servers.temporalAddress });
  const floorWorker = await Worker.create({
    connection: floorConnection,
    namespace: servers.namespace,
    taskQueue: floorQueue,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/plain-workflow'), logger: new DefaultLogger('WARN') }),
    activities: {
      async callTool(input: { tool: string; args: Record<string, unknown> }) {
        const r = await floorUpstream.callTool({ name: input.tool, arguments: input.args });
        if (r.isError) throw new Error(`floor call failed: ${JSON.stringify(r.content)}`);
        return r.content;
      },
    },
  });
  const floorRunning = floorWorker.run();
  const temporalConnection = await Connection.connect({ address: servers.temporalAddress });
  const temporal = new TemporalClient({ connection: temporalConnection, namespace: servers.namespace });
  const floorSession = await temporal.workflow.start('plainSession', { taskQueue: floorQueue, workflowId: `bench-floor-${randomBytes(4).toString('hex')}` });
  const callFloor = async () => {
    await floorSession.executeUpdate('callLocal', { args: [{ tool: TOOL, args: { path: file } }] });
  };

  const clients: Client[] = [];
  try {
    const gated = await viaGatehouse('bench-agent');
    clients.push(gated);
    for (let i = 0; i < 20; i++) {
      await callDirect();
      await callFloor();
      await callGatehouse(gated);
    }
    const d: number[] = [];
    const f: number[] = [];
    const g: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      d.push(await timed(callDirect));
      f.push(await timed(callFloor));
      g.push(await timed(() => callGatehouse(gated)));
    }
    d.sort((a, b) => a - b);
    f.sort((a, b) => a - b);
    g.sort((a, b) => a - b);

    const many = await Promise.all(Array.from({ length: SESSIONS }, (_, i) => viaGatehouse(`bench-${i}`)));
    clients.push(...many);
    for (const c of many) await callGatehouse(c); // each session started before the clock runs
    const seconds = (await timed(() => Promise.all(many.map(async (c) => { for (let k = 0; k < PER_SESSION; k++) await callGatehouse(c); })).then(() => undefined))) / 1000;

    const figures = {
      temporal: 'dev-memory',
      direct_p50_ms: pct(d, 50),
      gatehouse_p50_ms: pct(g, 50),
      added_p50_ms: Math.round((pct(g, 50) - pct(d, 50)) * 100) / 100,
      gatehouse_per_s: Math.round((SESSIONS * PER_SESSION) / seconds),
      temporal_floor_p50_ms: pct(f, 50),
      added_over_floor_p50_ms: Math.round((pct(g, 50) - pct(f, 50)) * 100) / 100,
    };
    process.stdout.write(`server: temporal dev server (in memory) at ${servers.temporalAddress}; one in-process worker and gateway; upstream @modelcontextprotocol/server-filesystem over stdio; ${CALLS} sequential \`${TOOL}\` calls per path after 20 warm-up, interleaved; throughput ${SESSIONS} MCP sessions x ${PER_SESSION} calls\n`);
    process.stdout.write(`direct: p50 ${pct(d, 50)} ms, p99 ${pct(d, 99)} ms; plain local activity behind an update (no Gatehouse): p50 ${pct(f, 50)} ms, p99 ${pct(f, 99)} ms; gatehouse: p50 ${pct(g, 50)} ms, p99 ${pct(g, 99)} ms, ${figures.gatehouse_per_s}/s over ${SESSIONS} sessions\n`);
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    await floorSession.signal('stop').catch(() => undefined);
    floorWorker.shutdown();
    await floorRunning;
    await temporalConnection.close();
    await floorConnection.close();
    await floorUpstream.close();
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
