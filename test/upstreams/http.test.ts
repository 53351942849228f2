/**
 * An upstream over Streamable HTTP: the official `@modelcontextprotocol/server-everything` (npm) in
 * its `streamableHttp` mode, behind Gatehouse, driven by the Python `mcp` client through `/mcp`.
 * Its tool names hold dashes (`get-sum`); its `get-env` tool (which would print the server's
 * environment) is left unclassified by the policy, so it is unknown and denied.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { NamedUpstream } from '../../activities/upstreams';
import { readUpstreamTools } from '../../audit/upstream-listing';
import { policyOf, startUpstreamStack, type UpstreamStack } from './stack';

const POLICY = policyOf({
  name: 'mcp-http-test',
  upstreamTools: { 'everything.echo': { effect: 'read', idempotent: true }, 'everything.get-sum': { effect: 'read' } },
  budget: { actions: 200, writes: 100, critical: 50, readOnlyAt: 0.95 },
  intent: { reviewBelow: 0 },
  approvers: { groups: { 'on-call': ['alice'] }, default: { groups: ['on-call'], timeoutMinutes: 15 } },
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Starts server-everything over Streamable HTTP; resolves once it listens. */
async function startEverything(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [require.resolve('@modelcontextprotocol/server-everything/dist/index.js'), 'streamableHttp'], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (stderr.includes(`listening on port ${port}`)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`server-everything exited (${String(code)}):\n${stderr}`)));
  });
  return child;
}

let stack: UpstreamStack;
let everything: ChildProcess;
before(async () => {
  const port = await freePort();
  everything = await startEverything(port);
  const server: NamedUpstream = { name: 'everything', url: `http://127.0.0.1:${port}/mcp`, headers: { 'X-Upstream-Key': 'worker-side-secret' }, timeoutMs: 10_000, maxAttempts: 3, sensitive: {} };
  stack = await startUpstreamStack('upstream_http', [server], POLICY);
});
after(async () => {
  await stack?.close();
  everything?.kill('SIGTERM');
});

describe('server-everything over Streamable HTTP through Gatehouse', () => {
  it('lists its classified tools, runs them, and denies the unclassified get-env', async () => {
    const agent = await stack.agent('add two numbers and echo the sum');
    const tools = await agent.list();
    assert.deepEqual((tools['everything.get-sum']?.inputSchema.required as string[] | undefined)?.slice().sort(), ['a', 'b']);
    // The server lists get-env (published), but this session's policy does not classify it: not offered to the agent.
    assert.ok((await readUpstreamTools(stack.h.audit.pool)).some((t) => t.name === 'everything.get-env'));
    assert.ok(tools['everything.echo'], `tools: ${Object.keys(tools).join(', ')}`);
    assert.equal(tools['everything.get-env'], undefined, 'an unclassified tool is not listed');

    const sum = await agent.call('everything.get-sum', { a: 2, b: 40 });
    assert.equal(sum.structured?.status, 'executed', sum.text);
    assert.match(JSON.stringify(sum.structured?.result), /42/);
    const echo = await agent.call('everything.echo', { message: 'over http' });
    assert.equal(echo.structured?.status, 'executed', echo.text);
    assert.match(JSON.stringify(echo.structured?.result), /over http/);

    const env = await agent.call('everything.get-env', {});
    assert.equal(env.structured?.status, 'denied');
    assert.deepEqual(env.structured?.reasons?.map((r) => r.rule), ['tool.unknown']);
    assert.doesNotMatch(env.text, /worker-side-secret/);

    const bad = await agent.call('everything.get-sum', { a: 'two', b: 40 });
    assert.equal(bad.structured?.status, 'denied');
    assert.deepEqual(bad.structured?.reasons?.map((r) => r.rule), ['tool.args']);
    assert.match(bad.text, /a: must be number/);
    assert.equal(await stack.ledgerRows('everything.get-sum'), 1);
  });
});
