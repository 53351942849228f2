/**
 * Red team: an agent reads what another session's upstream call logged. Gatehouse's worker holds
 * one connection per upstream MCP server for every session, and a log message carries no request
 * id: relayed to every call running on the connection, what a server logs about one session's call
 * (`whispered bravo`) reached an agent whose call merely ran at the same time.
 *
 * The upstream is a real MCP server (the official SDK, test/upstreams/fixtures/whisper-server.mjs)
 * over Streamable HTTP and over stdio. Agent A keeps a call running (held by the server) while
 * agent B, another agent with its own credential, calls and logs; then B asks the server to log to
 * all. A hears only its own call's message on both transports. Over HTTP, B hears its own (its
 * call's response stream carried it); over stdio one channel carries all, so while two calls run
 * neither hears a message — the price of not guessing. A message tied to no request reaches no one.
 *
 * Nor does one logged for a request of no call: a proposal of a tool whose policy names an upstream
 * estimator runs that estimator before the decision, outside every call; over stdio, with A's call the
 * only call running, what the estimator logged about B's arguments (`whispered bravo-private-filter`)
 * was taken for A's. Every request in flight now counts, a call's or not.
 *
 * The same for what a stdio server writes to stderr (the whole process's, every session's calls in
 * it): an agent whose call crashed the server was told the stderr's last lines in its error; now
 * its error names the server and what happened, and the worker's log (`lastError`) keeps the lines.
 *
 * And what a server writes, there or on stdout, reaches the operator's terminal escaped: an
 * argument a server echoes to stderr as `ESC]52;c;…BEL` set the operator's clipboard, and a
 * carriage return with `ESC[2K` rewrote the worker's "down" line as "connected".
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { NamedUpstream } from '../../activities/upstreams';
import { UpstreamConnection } from '../../activities/upstreams/connection';
import { eventually } from '../support/eventually';
import { testTrust } from '../support/trust';
import { policyOf, startUpstreamStack, type UpstreamStack } from '../upstreams/stack';
import { startHttpFixture } from '../upstreams/http-fixture';

const FIXTURE = require.resolve('../upstreams/fixtures/whisper-server.mjs');
const LIMITS = { timeoutMs: 10_000, maxAttempts: 3, sensitive: {} };
const TOOLS = ['whisper', 'release', 'broadcast', 'crash'];
const POLICY = policyOf({
  name: 'redteam-upstream-logs',
  upstreamTools: {
    ...Object.fromEntries(['web', 'pipe'].flatMap((server) => TOOLS.map((tool) => [`${server}.${tool}`, { effect: 'read' }]))),
    // Its estimate is a `whisper` of the call's filter: it logs, for no call.
    'pipe.purge': { effect: 'read', estimate: { tool: 'pipe.whisper', args: { secret: '$args.filter' } } },
  },
  intent: { reviewBelow: 0 },
  budget: { actions: 200, writes: 100, critical: 50, readOnlyAt: 0.95 },
});

/** An agent's MCP session through the gateway, and the log messages it heard. */
interface Listener {
  readonly client: Client;
  readonly heard: string[];
  /** Resolves once a message with this text has been heard. */
  hears(text: string): Promise<unknown>;
}

async function listener(stack: UpstreamStack, token: string): Promise<Listener> {
  const client = new Client({ name: 'redteam-logs', version: '1.0.0' });
  const heard: string[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void heard.push(String(n.params.data)));
  await client.connect(new StreamableHTTPClientTransport(new URL(stack.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  const declared = await client.callTool({ name: 'gatehouse_declare_intent', arguments: { intent: 'whisper to the test server' } });
  assert.equal((declared.structuredContent as { status?: string } | undefined)?.status, 'declared', JSON.stringify(declared));
  return {
    client,
    heard,
    hears: (text) => eventually(() => heard.includes(text), { what: `the log message \`${text}\`` }),
  };
}

async function executed(call: Promise<unknown>): Promise<void> {
  const r = (await call) as CallToolResult;
  assert.equal((r.structuredContent as { status?: string } | undefined)?.status, 'executed', JSON.stringify(r));
}

let stack: UpstreamStack;
let web: ChildProcess;
before(async () => {
  const started = await startHttpFixture(FIXTURE, 'whisper');
  web = started.child;
  const port = started.port;
  const servers: NamedUpstream[] = [
    { name: 'web', url: `http://127.0.0.1:${port}/mcp`, headers: {}, ...LIMITS },
    { name: 'pipe', command: process.execPath, args: [FIXTURE], env: {}, ...LIMITS } as NamedUpstream,
  ];
  stack = await startUpstreamStack('redteam_upstream_logs', servers, POLICY);
});
after(async () => {
  await stack?.close();
  web?.kill('SIGTERM');
});

describe("an agent listens for another session's upstream log messages", () => {
  for (const [server, bHearsOwn] of [['web', true], ['pipe', false]] as const) {
    it(`${server}: agent A hears only what the server logged for A's own call`, async () => {
      const a = await listener(stack, stack.token);
      const b = await listener(stack, await testTrust().credential('other-bot', 'eng-008'));
      try {
        const held = a.client.callTool({ name: `${server}.whisper`, arguments: { secret: 'alpha', hold: `${server}-a` } });
        await a.hears('whispered alpha');
        // A's call is still running (the server holds it) while B's call logs about B.
        await executed(b.client.callTool({ name: `${server}.whisper`, arguments: { secret: 'bravo' } }));
        await executed(b.client.callTool({ name: `${server}.broadcast`, arguments: { text: 'to every session' } }));
        await executed(b.client.callTool({ name: `${server}.release`, arguments: { hold: `${server}-a` } }));
        await executed(held);
        assert.deepEqual(a.heard, ['whispered alpha']);
        assert.deepEqual(b.heard, bHearsOwn ? ['whispered bravo'] : []);
      } finally {
        await Promise.all([a.client.close(), b.client.close()]);
      }
    });
  }
});

describe("an agent listens for what another agent's estimate logged", () => {
  it("pipe: agent A's running call does not hear the estimate of B's proposal", async () => {
    const a = await listener(stack, stack.token);
    const b = await listener(stack, await testTrust().credential('other-bot', 'eng-008'));
    try {
      const held = a.client.callTool({ name: 'pipe.whisper', arguments: { secret: 'alpha', hold: 'estimate-a' } });
      await a.hears('whispered alpha');
      // A's call is the only call running while B's proposal is estimated: the estimator logs B's filter.
      await executed(b.client.callTool({ name: 'pipe.purge', arguments: { filter: 'bravo-private-filter' } }));
      await executed(b.client.callTool({ name: 'pipe.release', arguments: { hold: 'estimate-a' } }));
      await executed(held);
      assert.deepEqual(a.heard, ['whispered alpha']);
      assert.deepEqual(b.heard, []);
    } finally {
      await Promise.all([a.client.close(), b.client.close()]);
    }
  });
});

describe("an agent reads another session's calls in the upstream's stderr", () => {
  it('pipe: the error of a call that crashed the server does not carry its stderr', async () => {
    const a = await listener(stack, stack.token);
    const b = await listener(stack, await testTrust().credential('other-bot', 'eng-008'));
    try {
      await executed(b.client.callTool({ name: 'pipe.whisper', arguments: { secret: 'charlie' } }));
      const crashed = (await a.client.callTool({ name: 'pipe.crash', arguments: {} })) as CallToolResult;
      const outcome = crashed.structuredContent as { status?: string; error?: { type?: string; message?: string } };
      assert.equal(outcome.status, 'failed', JSON.stringify(crashed));
      assert.equal(outcome.error?.type, 'UpstreamUnavailable');
      assert.match(outcome.error?.message ?? '', /^upstream server `pipe` closed the connection during `crash`/);
      assert.doesNotMatch(JSON.stringify(crashed), /charlie|stderr/);
    } finally {
      await Promise.all([a.client.close(), b.client.close()]);
    }
  });

  it('a server that is down: an agent is told why it is not connected, the operator also what it wrote to stderr', async () => {
    const conn = new UpstreamConnection({
      server: { name: 'dying', command: process.execPath, args: ['-e', "process.stderr.write('token=hunter2 for session s-other\\n'); process.exit(1)"], env: {}, ...LIMITS } as NamedUpstream,
      onTools: () => undefined,
    });
    try {
      await conn.start();
      assert.equal(conn.state, 'down');
      assert.match(conn.lastError, /token=hunter2/, 'the operator sees the stderr');
      await assert.rejects(conn.callTool('anything', {}, { signal: AbortSignal.timeout(5_000), timeoutMs: 5_000, key: 's:down' }), (err: Error) => {
        assert.match(err.message, /^upstream server `dying` is not connected: /);
        assert.doesNotMatch(err.message, /hunter2|stderr/);
        return true;
      });
    } finally {
      await conn.close();
    }
  });
});

describe("an upstream server writes terminal controls into the operator's log", () => {
  // What a terminal acts on: C0 controls (ESC, BEL, CR, a line break), DEL and the C1 controls.
  const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

  it('its stderr and its unreadable stdout are logged one line each, every control escaped', async () => {
    const echoed = 'x\u001b]52;c;aGVsbG8=\u0007\r\u001b[2Kgatehouse worker: upstream `echo`: connected';
    const script = [
      `process.stdout.write(${JSON.stringify('\u001b[2K\r\u009b2J\n')});`,
      `process.stderr.write(${JSON.stringify(`${echoed}\n`)});`,
      // Exits when asked to initialize: its stdout line came first, so its error is logged before the connection closes.
      'process.stdin.once("data", () => process.exit(1));',
    ].join('\n');
    const lines: string[] = [];
    const conn = new UpstreamConnection({
      server: { name: 'echo', command: process.execPath, args: ['-e', script], env: {}, ...LIMITS } as NamedUpstream,
      onTools: () => undefined,
      log: (line) => lines.push(line),
    });
    try {
      await conn.start();
      assert.equal(conn.state, 'down');
      const down = lines.find((l) => l.startsWith('upstream `echo`: down ('));
      assert.ok(down, lines.join('\n'));
      const unreadable = lines.find((l) => l.includes('not valid JSON'));
      assert.ok(unreadable, lines.join('\n'));
      for (const line of [...lines, conn.lastError]) assert.doesNotMatch(line, CONTROL, JSON.stringify(line));
      assert.ok(down.includes('(stderr: x\\u001b]52;c;aGVsbG8=\\u0007\\u000d\\u001b[2Kgatehouse worker: upstream `echo`: connected)'), down);
      assert.equal(unreadable, 'upstream `echo`: Unexpected token \'\\u001b\', "\\u001b[2K\\u000d\\u009b2J" is not valid JSON');
    } finally {
      await conn.close();
    }
  });
});
