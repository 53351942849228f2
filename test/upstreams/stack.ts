/**
 * What the upstream MCP tests share: a worker whose catalog is the tools of real upstream MCP
 * servers (registered by the `UpstreamManager`, published to the audit database), the real gateway
 * listing them from that table, and an MCP agent driven through the Python `mcp` package
 * (`python/driver.py`), one MCP session (one Gatehouse session) per `PyAgent`.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { FastifyInstance } from 'fastify';
import type { Worker } from '@temporalio/worker';
import { createCatalog, type ToolCatalog } from '../../activities/tools/catalog';
import { UpstreamManager, type NamedUpstream } from '../../activities/upstreams';
import { RevocationStore } from '../../audit/credentials';
import { publishedUpstreamTools } from '../../gateway/mcp/upstream-tools';
import { createGateway } from '../../gateway/server';
import { parsePolicy, type PolicyDocument } from '../../policies';
import { createHarness, type Harness } from '../workflows/harness';
import { testTrust } from '../support/trust';
import { venvPython } from '../../worker/devstack/python-venv';

const ROOT = join(__dirname, '..', '..');
export const PYTHON = venvPython(ROOT);
export const AGENT = { agentId: 'mcp-bot', owner: 'eng-007' } as const;

/** A stdio server started with this Node from an npm package's bin file. */
export function npmServer(name: string, pkg: string, args: readonly string[], extra: Partial<NamedUpstream> = {}): NamedUpstream {
  const bin = require.resolve(`${pkg}/dist/index.js`);
  return { name, command: process.execPath, args: [bin, ...args], env: {}, timeoutMs: 20_000, maxAttempts: 3, sensitive: {}, ...extra } as NamedUpstream;
}

export function policyOf(doc: Record<string, unknown>): PolicyDocument {
  const parsed = parsePolicy(doc);
  if (!parsed.success) throw new Error(`test policy: ${JSON.stringify(parsed.issues)}`);
  return parsed.data;
}

export interface UpstreamStack {
  readonly h: Harness;
  readonly catalog: ToolCatalog;
  readonly upstreams: UpstreamManager;
  readonly mcpUrl: string;
  readonly token: string;
  /** A new MCP session that has declared `intent`. */
  agent(intent: string): Promise<PyAgent>;
  /** Ledger rows (finished calls) of a tool in the production database. */
  ledgerRows(tool: string): Promise<number>;
  /** Audit event kinds of a tool in a session. */
  eventKinds(sessionId: string, tool: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function startUpstreamStack(area: string, servers: readonly NamedUpstream[], policy: PolicyDocument, options: { readonly log?: (line: string) => void } = {}): Promise<UpstreamStack> {
  assert.ok(existsSync(PYTHON), `no Python venv at ${PYTHON}: \`npm test\` makes it; by hand: \`npm run setup:python\``);
  process.env.GATEHOUSE_MCP_HOLD_SECONDS = '2';
  const h = await createHarness(area);
  const catalog = createCatalog([], { database: h.production.pool });
  const upstreams = new UpstreamManager({ servers, catalog, publish: h.audit.pool, ...(options.log ? { log: options.log } : {}) });
  await upstreams.start();
  const worker: Worker = await h.worker({ catalog, policy });
  const running = worker.run();
  // No catalog for the gateway: every tool it lists comes from what the worker published.
  const app: FastifyInstance = createGateway({
    client: h.gh,
    keyset: testTrust().keyset,
    revocations: new RevocationStore(h.audit.pool),
    upstreamTools: publishedUpstreamTools(h.audit.pool, { ttlMs: 0 }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const mcpUrl = `http://127.0.0.1:${port}/mcp`;
  const token = await testTrust().credential(AGENT.agentId, AGENT.owner);
  const agents: PyAgent[] = [];
  return {
    h,
    catalog,
    upstreams,
    mcpUrl,
    token,
    async agent(intent) {
      const a = await PyAgent.open(mcpUrl, token);
      agents.push(a);
      const declared = await a.call('gatehouse_declare_intent', { intent });
      assert.equal(declared.structured?.status, 'declared', declared.text);
      a.sessionId = String(declared.structured.sessionId);
      return a;
    },
    async ledgerRows(tool) {
      const r = await h.production.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tool_executions WHERE tool = $1', [tool]);
      return r.rows[0]!.n;
    },
    async eventKinds(sessionId, tool) {
      return (await h.events(sessionId)).filter((e) => e.tool === tool).map((e) => e.kind);
    },
    async close() {
      await Promise.all(agents.map((a) => a.end()));
      await app.close();
      worker.shutdown();
      await running;
      await upstreams.close();
      await h.close();
    },
  };
}

export interface CallSummary {
  readonly isError: boolean;
  readonly structured: (Record<string, unknown> & { status?: string; approvalId?: string; reasons?: { rule: string; message: string }[]; error?: { type: string; message: string }; result?: unknown }) | null;
  readonly text: string;
}

/** One MCP session of the Python client, driven line by line. */
export class PyAgent {
  /** The Gatehouse session of this MCP session (set once the intent is declared). */
  sessionId = '';
  #lines: AsyncIterator<string>;
  #stderr = '';
  #exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    rl: Interface,
  ) {
    this.#lines = rl[Symbol.asyncIterator]();
    child.stderr.on('data', (c: Buffer) => (this.#stderr += c.toString()));
    this.#exited = new Promise((resolve) => child.on('exit', resolve));
  }

  static async open(mcpUrl: string, token: string): Promise<PyAgent> {
    const child = spawn(PYTHON, [join(__dirname, 'python', 'driver.py')], {
      env: { ...process.env, GATEHOUSE_MCP_URL: mcpUrl, GATEHOUSE_AGENT_TOKEN: token },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const agent = new PyAgent(child, createInterface({ input: child.stdout }));
    const ready = await agent.#next();
    assert.deepEqual(ready, { ready: true });
    return agent;
  }

  async #next(): Promise<unknown> {
    const r = await this.#lines.next();
    if (r.done) throw new Error(`driver.py exited early:\n${this.#stderr}`);
    return JSON.parse(r.value) as unknown;
  }

  /** The session id of a held call's approval id (`<sessionId>:<n>`). */
  static sessionOf(approvalId: string): string {
    return approvalId.slice(0, approvalId.lastIndexOf(':'));
  }

  async list(): Promise<Record<string, { inputSchema: Record<string, unknown>; description: string; annotations: Record<string, unknown> | null }>> {
    this.child.stdin.write(`${JSON.stringify({ op: 'list' })}\n`);
    const r = (await this.#next()) as { tools: Record<string, { inputSchema: Record<string, unknown>; description: string; annotations: Record<string, unknown> | null }> };
    return r.tools;
  }

  async call(name: string, args: Record<string, unknown>): Promise<CallSummary> {
    this.child.stdin.write(`${JSON.stringify({ op: 'call', name, args })}\n`);
    return (await this.#next()) as CallSummary;
  }

  /** The resources and prompts `resources/list` and `prompts/list` show. */
  async subjects(): Promise<{ resources: string[]; prompts: string[] }> {
    this.child.stdin.write(`${JSON.stringify({ op: 'resources' })}\n`);
    return (await this.#next()) as { resources: string[]; prompts: string[] };
  }

  /** `resources/read`: the contents, or the JSON-RPC error. */
  async read(uri: string): Promise<{ contents?: Record<string, unknown>[]; error?: { code: number; message: string } }> {
    this.child.stdin.write(`${JSON.stringify({ op: 'read', uri })}\n`);
    return (await this.#next()) as { contents?: Record<string, unknown>[]; error?: { code: number; message: string } };
  }

  async end(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.stdin.write(`${JSON.stringify({ op: 'end' })}\n`);
    const code = await this.#exited;
    assert.equal(code, 0, `driver.py failed:\n${this.#stderr}`);
  }
}
