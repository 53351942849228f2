/**
 * The standalone gateway process (`gateway/main.ts`, docker-compose's `gatehouse-gateway`) with a
 * catalog module of the user's own (`GATEHOUSE_CATALOG`): MCP `tools/list` offers that catalog's
 * tools — not the sample ones — and a call of one runs through the worker that loaded the same
 * module. The real process, the real Temporal dev server and PostgreSQL, the MCP SDK's client.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Worker } from '@temporalio/worker';
import { ROOT } from '../e2e/processes';
import { createCatalog } from '../foundation/fixtures/catalog-module';
import { cliEnv } from '../operator/cli-env';
import { testTrust, writeTestKeys } from '../support/trust';
import { createHarness, type Harness } from '../workflows/harness';

const CATALOG_MODULE = 'test/foundation/fixtures/catalog-module.ts';

let h: Harness;
let worker: Worker;
let running: Promise<void>;
let dir: string;
let gateway: ChildProcess | undefined;
let stderr = '';

before(async () => {
  h = await createHarness('gateway_main_catalog');
  worker = await h.worker({ catalog: createCatalog({ productionPool: h.production.pool }) });
  running = worker.run();
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-gateway-catalog-'));
});
after(async () => {
  if (gateway && gateway.exitCode === null) {
    const exited = new Promise((resolve) => gateway!.once('exit', resolve));
    gateway.kill('SIGTERM');
    await exited;
  }
  worker?.shutdown();
  await running;
  await h?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Starts `gateway/main.ts` on a free port and resolves with its URL (the line it prints once listening). */
async function startGatewayProcess(): Promise<string> {
  const env: NodeJS.ProcessEnv = {
    ...cliEnv(join(dir, 'env')),
    TEMPORAL_ADDRESS: h.address,
    TEMPORAL_NAMESPACE: h.namespace,
    GATEHOUSE_TASK_QUEUE: h.taskQueue,
    DATABASE_URL: h.audit.url,
    GATEHOUSE_PRODUCTION_DATABASE_URL: h.production.url,
    GATEHOUSE_KEYS: writeTestKeys(join(dir, 'keys')),
    GATEHOUSE_CATALOG: CATALOG_MODULE,
    GATEHOUSE_GATEWAY_PORT: '0',
  };
  gateway = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'gateway/main.ts')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  gateway.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = new Promise<never>((_, reject) => gateway!.once('exit', (code) => reject(new Error(`gateway/main.ts exited ${code}: ${stderr}`))));
  const listening = (async () => {
    for await (const line of createInterface({ input: gateway!.stdout! })) {
      const url = /^gatehouse gateway: (http:\/\/127\.0\.0\.1:\d+) /.exec(line)?.[1];
      if (url) return url;
    }
    throw new Error(`gateway/main.ts closed its output without listening: ${stderr}`);
  })();
  return Promise.race([listening, exited]);
}

test('tools/list offers the catalog module\'s tools, and a call of one runs', async () => {
  const url = await startGatewayProcess();
  const token = await testTrust().credential('clock-bot', 'eng-007');
  const client = new Client({ name: 'gateway-catalog-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}`, 'x-gatehouse-intent': 'read the database clock' } } }));
  try {
    const names = (await client.listTools()).tools.map((t) => t.name);
    // Gatehouse's own tools, then the module's one tool; none of the sample catalog's (billing, volumes, services).
    assert.deepEqual(names.filter((n) => !n.startsWith('gatehouse_')), ['clock.now']);
    const result = await client.callTool({ name: 'clock.now', arguments: {} });
    const out = result.structuredContent as { status?: string; result?: { now?: unknown } } | undefined;
    assert.equal(out?.status, 'executed', JSON.stringify(result));
    assert.equal(typeof out?.result?.now, 'string');
  } finally {
    await client.close();
  }
});
