/**
 * What an upstream MCP server is given, seen from inside it (test/upstreams/fixtures/echo-server.mjs
 * echoes its environment and request headers): a stdio server gets its configured environment over
 * a minimal default one, never the worker's `DATABASE_URL`, keys or agent token; an HTTP server gets
 * its configured header, and no credential of the worker or the agent.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UpstreamConnection } from '../../activities/upstreams/connection';
import type { NamedUpstream } from '../../activities/upstreams';
import { startHttpFixture } from './http-fixture';

const FIXTURE = join(__dirname, 'fixtures', 'echo-server.mjs');
/** What the worker's process holds and no upstream may see. */
const WORKER_SECRETS: Record<string, string> = {
  DATABASE_URL: 'postgres://owner:db-secret@127.0.0.1/gatehouse',
  GATEHOUSE_PRODUCTION_DATABASE_URL: 'postgres://owner:prod-secret@127.0.0.1/production',
  GATEHOUSE_KEYS: '/secret/keyset.json',
  GATEHOUSE_AGENT_TOKEN: 'agent-token-secret',
  SLACK_BOT_TOKEN: 'xoxb-secret',
};
const saved: Record<string, string | undefined> = {};

before(() => {
  for (const [k, v] of Object.entries(WORKER_SECRETS)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});
after(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

async function echoOf(server: NamedUpstream, tool: string): Promise<Record<string, string>> {
  const connection = new UpstreamConnection({ server, onTools: () => undefined });
  await connection.start();
  try {
    assert.equal(connection.state, 'up');
    const r = await connection.callTool(tool, {}, { signal: AbortSignal.timeout(30_000), timeoutMs: 30_000 });
    const text = (r.content as { type: string; text: string }[])[0]?.text ?? '';
    return JSON.parse(text) as Record<string, string>;
  } finally {
    await connection.close();
  }
}

describe('a connection closed while it connects', () => {
  it('stays closed: the client it was connecting is closed, not taken up (an agent\'s idle connection, a stopping worker)', async () => {
    const connection = new UpstreamConnection({ server: { name: 'echo', command: process.execPath, args: [FIXTURE], env: {}, sensitive: {}, maxAttempts: 1, timeoutMs: 30_000 }, onTools: () => undefined });
    const started = connection.start();
    await connection.close();
    await started;
    assert.equal(connection.state, 'closed');
    await assert.rejects(connection.callTool('environment', {}, { signal: AbortSignal.timeout(5_000), timeoutMs: 5_000 }));
  });
});

describe('what reaches an upstream', () => {
  it('a stdio server: its configured environment, no worker secret', async () => {
    const env = await echoOf({ name: 'echo', command: process.execPath, args: [FIXTURE], env: { ECHO_CONFIGURED: 'configured-value' }, sensitive: {}, maxAttempts: 1, timeoutMs: 30_000 }, 'environment');
    assert.equal(env.ECHO_CONFIGURED, 'configured-value');
    assert.ok(env.PATH, 'the default environment (PATH) is given');
    for (const k of Object.keys(WORKER_SECRETS)) assert.equal(env[k], undefined, `\`${k}\` reached the upstream`);
    const all = JSON.stringify(env);
    for (const v of Object.values(WORKER_SECRETS)) assert.doesNotMatch(all, new RegExp(v.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
  });

  it('an HTTP server: its configured header, no credential', async () => {
    const { child, port } = await startHttpFixture(FIXTURE, 'echo');
    try {
      const headers = await echoOf({ name: 'echo', url: `http://127.0.0.1:${port}/mcp`, headers: { 'X-Upstream-Key': 'configured-header' }, sensitive: {}, maxAttempts: 1, timeoutMs: 30_000 }, 'headers');
      assert.equal(headers['x-upstream-key'], 'configured-header');
      assert.equal(headers.authorization, undefined);
      const all = JSON.stringify(headers);
      for (const v of Object.values(WORKER_SECRETS)) assert.doesNotMatch(all, new RegExp(v.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
    } finally {
      child.kill('SIGTERM');
    }
  });
});
