/**
 * Upstream faults: a server that answers garbage, reports an error, crashes mid-call, hangs, changes
 * its tool list, or is not installed. Each call ends as a recorded failed call whose error names
 * the server, and the session goes on; a crashed stdio server is started again. A call whose
 * earlier attempt died mid-call is not repeated on a tool the policy does not call idempotent.
 * An answer over the size limit fails only its own call (stdio and Streamable HTTP): the
 * connection, the server and other sessions' calls go on.
 * The misbehaving server is a fixture (`fixtures/faulty-server.mjs`): no real server misbehaves on cue.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditEventInput } from '../../audit/types';
import pg from 'pg';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createToolActivities } from '../../activities/tools/activities';
import { ToolCatalog } from '../../activities/tools/catalog';
import { ensureInFlight } from '../../activities/upstreams';
import type { NamedUpstream } from '../../activities/upstreams';
import { answeredId } from '../../activities/upstreams/answered-id';
import { BoundedLineReader } from '../../activities/upstreams/bounded-lines';
import { cappedFetch } from '../../activities/upstreams/capped-fetch';
import { MAX_UPSTREAM_MESSAGE_BYTES, tooLargeOf, type DroppedMessage } from '../../activities/upstreams/size-limit';
import { eventually } from '../support/eventually';
import { startHttpFixture } from './http-fixture';
import { policyOf, startUpstreamStack, type UpstreamStack } from './stack';

const dir = mkdtempSync(join(tmpdir(), 'gh-upstream-faulty-'));
const STATE = join(dir, 'calls.log');
const FAULTY: NamedUpstream = {
  name: 'faulty',
  command: process.execPath,
  args: [join(__dirname, 'fixtures', 'faulty-server.mjs')],
  env: { FAULTY_STATE: STATE },
  timeoutMs: 3_000,
  maxAttempts: 3,
  sensitive: {},
};
/** The same server for the size limit's tests, with time for an answer of 10 MiB under load. */
const BIG: NamedUpstream = { ...FAULTY, name: 'big', timeoutMs: 10_000 };
const FIXTURE = join(__dirname, 'fixtures', 'faulty-server.mjs');
const MISSING: NamedUpstream = { name: 'missing', command: join(dir, 'no-such-mcp-server'), args: [], env: {}, timeoutMs: 3_000, maxAttempts: 3, sensitive: {} };
const POLICY = policyOf({
  name: 'mcp-faults-test',
  upstreamTools: {
    'faulty.echo': { effect: 'read', idempotent: true },
    'faulty.*': { effect: 'read' },
    'missing.*': { effect: 'read' },
    'big.*': { effect: 'read' },
    'big-http.*': { effect: 'read' },
  },
  budget: { actions: 200, writes: 100, critical: 50, readOnlyAt: 0.95 },
  intent: { reviewBelow: 0 },
  approvers: { groups: { 'on-call': ['alice'] }, default: { groups: ['on-call'], timeoutMinutes: 15 } },
});

/** Calls that reached the faulty server, by tool. */
function reached(tool: string): number {
  if (!existsSync(STATE)) return 0;
  return readFileSync(STATE, 'utf8').split('\n').filter((l) => l.startsWith(`${tool} `)).length;
}

let stack: UpstreamStack;
let http: ChildProcess | undefined;
const logged: string[] = [];
before(async () => {
  const fixture = await startHttpFixture(FIXTURE, 'faulty');
  http = fixture.child;
  const BIG_HTTP: NamedUpstream = { name: 'big-http', url: `http://127.0.0.1:${fixture.port}/mcp`, headers: {}, timeoutMs: 10_000, maxAttempts: 3, sensitive: {} };
  stack = await startUpstreamStack('upstream_faults', [FAULTY, MISSING, BIG, BIG_HTTP], POLICY, { log: (line) => void logged.push(line) });
});
after(async () => {
  await stack?.close();
  http?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('upstream faults', () => {
  it('follows tools/list pagination, and a server that is not installed leaves its tools unknown', async () => {
    assert.deepEqual(
      stack.catalog.names().filter((n) => n.startsWith('faulty.')).sort(),
      ['faulty.crash', 'faulty.echo', 'faulty.fail', 'faulty.garbage', 'faulty.grow', 'faulty.hang', 'faulty.huge', 'faulty.slow'],
    );
    const missing = stack.upstreams.connection('missing')!;
    assert.equal(missing.state, 'down');
    assert.match(missing.lastError, /ENOENT/);
    const agent = await stack.agent('exercise the faulty server');
    const call = await agent.call('missing.anything', {});
    assert.deepEqual(call.structured?.reasons?.map((r) => r.rule), ['tool.unknown']);
  });

  it('records garbage, isError and hangs as failed calls naming the server; the session goes on', async () => {
    const agent = await stack.agent('exercise the faulty server');
    const garbage = await agent.call('faulty.garbage', {});
    assert.equal(garbage.structured?.status, 'failed', garbage.text);
    assert.equal(garbage.structured?.error?.type, 'UpstreamProtocolError');
    assert.match(garbage.structured!.error!.message, /^upstream server `faulty` answered `garbage` with an invalid result/);

    const fail = await agent.call('faulty.fail', {});
    assert.equal(fail.structured?.status, 'failed');
    assert.equal(fail.structured?.error?.type, 'UpstreamToolError');
    assert.equal(fail.structured?.error?.message, 'upstream server `faulty`: `fail` failed: disk on fire');

    const hang = await agent.call('faulty.hang', {});
    assert.equal(hang.structured?.status, 'failed');
    assert.equal(hang.structured?.error?.type, 'UpstreamUnavailable');
    assert.match(hang.structured!.error!.message, /^upstream server `faulty` did not answer in time during `hang`/);
    assert.equal(reached('hang'), 1, 'a non-idempotent call that timed out is not repeated');

    const echo = await agent.call('faulty.echo', { text: 'still here' });
    assert.equal(echo.structured?.status, 'executed', echo.text);
    assert.match(JSON.stringify(echo.structured?.result), /echo: still here/);
    const kinds = (await stack.h.events(agent.sessionId)).filter((e) => e.kind === 'failed').map((e) => e.tool);
    assert.deepEqual(kinds, ['faulty.garbage', 'faulty.fail', 'faulty.hang']);
  });

  it('records a crash mid-call once, restarts the server, and the next call runs', async () => {
    const conn = stack.upstreams.connection('faulty')!;
    const connects = conn.connects;
    const agent = await stack.agent('exercise the faulty server');
    const crash = await agent.call('faulty.crash', {});
    assert.equal(crash.structured?.status, 'failed');
    assert.equal(crash.structured?.error?.type, 'UpstreamUnavailable');
    assert.match(crash.structured!.error!.message, /^upstream server `faulty` closed the connection during `crash`/);
    assert.equal(reached('crash'), 1, 'the crashed call is not repeated');
    await stack.upstreams.until(() => conn.state === 'up' && conn.connects > connects);
    const echo = await agent.call('faulty.echo', { text: 'after the crash' });
    assert.equal(echo.structured?.status, 'executed', echo.text);
  });

  it('lists again on notifications/tools/list_changed: a new tool reaches the catalog and the gateway', async () => {
    const before = stack.upstreams.listings('faulty');
    const agent = await stack.agent('exercise the faulty server');
    const grow = await agent.call('faulty.grow', {});
    assert.equal(grow.structured?.status, 'executed', grow.text);
    await stack.upstreams.until(() => stack.upstreams.listings('faulty') > before && stack.catalog.has('faulty.extra'));
    const fresh = await stack.agent('exercise the faulty server');
    assert.ok((await fresh.list())['faulty.extra']);
    const extra = await fresh.call('faulty.extra', {});
    assert.equal(extra.structured?.status, 'executed', extra.text);
  });

  it('runs more concurrent calls than the catalog pool has connections (marks never wait on a ledger transaction)', async () => {
    const tools = createToolActivities({ catalog: stack.catalog, audit: { append: async () => undefined } });
    const echoes = reached('echo');
    const n = 25; // the production pool has 10 connections; each running call holds one
    const at = new Date().toISOString();
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        tools.runTool({ sessionId: 'busy', proposalSeq: i + 1, tool: 'faulty.echo', args: { text: `call ${i}` }, idempotencyKey: `busy:p${i + 1}`, before: [], afterSeq: 2 * i + 2, at, maxAttempts: 3 }),
      ),
    );
    assert.deepEqual(results.map((r) => r.status), Array.from({ length: n }, () => 'executed'));
    assert.equal(reached('echo'), echoes + n);
  });

  it('one agent\'s calls a server holds take at most half the catalog pool: another agent\'s calls still run', async () => {
    const small = new pg.Pool({ connectionString: stack.h.production.url, max: 2 });
    const catalog = new ToolCatalog({ tools: stack.catalog.names().map((n) => stack.catalog.get(n)!), database: small });
    const tools = createToolActivities({ catalog, audit: { append: async () => undefined } });
    const at = new Date().toISOString();
    const call = (agentId: string, sessionId: string, tool: string, args: Record<string, unknown>) =>
      tools.runTool({ sessionId, agentId, proposalSeq: 1, tool, args, idempotencyKey: `${sessionId}:p1`, before: [], afterSeq: 2, at, maxAttempts: 1 });
    const slows = reached('slow');
    // Two calls of a tool the server answers only once `huge` is called: held, each holding a connection.
    const hog = [call('hog-bot', 'hog-1', 'big.slow', {}), call('hog-bot', 'hog-2', 'big.slow', {})];
    await eventually(() => (reached('slow') > slows ? true : undefined), { what: 'the first held call at the server' });
    // Another agent's call runs now: the hog's second waits for its first, holding no connection
    // (it took the pool's last one, and this call waited for the hog's to time out).
    assert.equal((await call('other-bot', 'other-1', 'big.echo', { text: 'still here' })).status, 'executed');
    assert.equal(reached('slow'), slows + 1, 'the hog\'s second call waits for its first');
    // A third, as a Temporal activity: it heartbeats while it waits (Temporal's only way to tell it it
    // timed out or was cancelled), and once cancelled it leaves the queue and never reaches the server.
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 600, isLocal: false });
    let beats = 0;
    env.on('heartbeat', () => void beats++);
    const third = env.run(tools.runTool, { sessionId: 'hog-3', agentId: 'hog-bot', proposalSeq: 1, tool: 'big.slow', args: {}, idempotencyKey: 'hog-3:p1', before: [], afterSeq: 2, at, maxAttempts: 1 });
    await eventually(() => (beats >= 2 ? true : undefined), { what: 'heartbeats while waiting for a slot' });
    env.cancel();
    await assert.rejects(third, (err: unknown) => err instanceof CancelledFailure);
    for (const n of [1, 2]) {
      await eventually(() => (reached('slow') >= slows + n ? true : undefined), { what: `held call ${n} at the server` });
      assert.equal((await call('releaser-bot', `release-${n}`, 'big.huge', { bytes: 10 })).status, 'executed');
    }
    assert.deepEqual((await Promise.all(hog)).map((r) => r.status), ['executed', 'executed']);
    // The hog's next call takes the freed slot at once: nobody was left waiting ahead of it.
    assert.equal((await call('hog-bot', 'hog-4', 'big.echo', { text: 'after' })).status, 'executed');
    assert.equal(reached('slow'), slows + 2, 'the cancelled call never reached the server');
    await small.end();
  });

  it('does not repeat a call whose earlier attempt died mid-call (outcome unknown) unless the policy says idempotent', async () => {
    const events: AuditEventInput[] = [];
    const tools = createToolActivities({ catalog: stack.catalog, audit: { append: async (e) => void events.push(...e) } });
    const pool = stack.h.production.pool;
    await ensureInFlight(pool);
    // What a worker killed mid-call leaves: the call marked started, no ledger row.
    await pool.query("INSERT INTO upstream_calls (idempotency_key, tool) VALUES ('dead:p1', 'faulty.echo'), ('dead:p2', 'faulty.echo')");
    const echoes = reached('echo');
    const input = { sessionId: 'dead', tool: 'faulty.echo', args: { text: 'again?' }, before: [], at: new Date().toISOString() };
    const once = await tools.runTool({ ...input, proposalSeq: 1, idempotencyKey: 'dead:p1', afterSeq: 2, maxAttempts: 1 });
    assert.equal(once.status, 'failed');
    assert.equal(once.error?.type, 'OutcomeUnknown');
    assert.match(once.error!.message, /^upstream server `faulty`: an earlier attempt of `echo` \(key `dead:p1`\) started and never reported back/);
    assert.equal(reached('echo'), echoes);
    const ledger = await pool.query("SELECT status, error->>'type' AS type FROM tool_executions WHERE idempotency_key = 'dead:p1'");
    assert.deepEqual(ledger.rows, [{ status: 'failed', type: 'OutcomeUnknown' }]);
    assert.deepEqual(events.map((e) => [e.kind, e.detail?.errorType]), [['failed', 'OutcomeUnknown']]);
    // What a duplicate attempt finds when it takes the ledger's lock after the first attempt failed
    // (its mark finished) and before that failure is recorded: an outcome the ledger does not hold.
    await pool.query("INSERT INTO upstream_calls (idempotency_key, tool, finished_at) VALUES ('dead:p3', 'faulty.echo', now())");
    const raced = await tools.runTool({ ...input, proposalSeq: 3, idempotencyKey: 'dead:p3', afterSeq: 6, maxAttempts: 1 });
    assert.equal(raced.error?.type, 'OutcomeUnknown');
    assert.match(raced.error!.message, /^upstream server `faulty`: an earlier attempt of `echo` \(key `dead:p3`\) reached the server and its outcome was not recorded/);
    assert.equal(reached('echo'), echoes);
    // Idempotent by policy (more than one attempt allowed): running it again is safe, so it runs.
    const again = await tools.runTool({ ...input, proposalSeq: 2, idempotencyKey: 'dead:p2', afterSeq: 4, maxAttempts: 3 });
    assert.equal(again.status, 'executed');
    assert.equal(reached('echo'), echoes + 1);
  });

  // The slow call is held by the server until the huge answer has gone out (the fixture's
  // rendezvous), on the same connection, from another session: it is in flight all along.
  for (const [server, modes] of [
    ['big', [{ idLast: true }, { idLast: false }]],
    ['big-http', [{ stream: false }, { stream: true }]],
  ] as const) {
    it(`fails only the call whose answer is over the size limit; the connection and other calls go on (${server === 'big' ? 'stdio' : 'Streamable HTTP'})`, async () => {
      const conn = stack.upstreams.connection(server)!;
      assert.equal(conn.state, 'up');
      const connects = conn.connects;
      const huges = reached('huge');
      const [waiter, reader] = await Promise.all([stack.agent('wait for an answer'), stack.agent('read a lot')]);
      for (const mode of modes) {
        const slow = waiter.call(`${server}.slow`, {});
        const huge = await reader.call(`${server}.huge`, { bytes: MAX_UPSTREAM_MESSAGE_BYTES + 1024, ...mode });
        assert.equal(huge.structured?.status, 'failed', huge.text);
        assert.equal(huge.structured?.error?.type, 'UpstreamResultTooLarge', JSON.stringify(mode));
        assert.match(huge.structured!.error!.message, new RegExp(`^upstream server \`${server}\` answered \`huge\` with a message .*over the limit of 10 MiB \\(10485760 bytes\\): the answer was dropped$`));
        const done = await slow;
        assert.equal(done.structured?.status, 'executed', done.text);
        assert.match(JSON.stringify(done.structured?.result), /slow done/);
      }
      assert.equal(conn.state, 'up');
      assert.equal(conn.connects, connects, 'the connection was not closed and made again');
      // The trail: each huge call once, failed for its size (not retried), each slow call executed.
      const failed = (await stack.h.events(reader.sessionId)).filter((e) => e.tool === `${server}.huge` && (e.kind === 'failed' || e.kind === 'executed'));
      assert.deepEqual(failed.map((e) => [e.kind, e.detail?.errorType]), modes.map(() => ['failed', 'UpstreamResultTooLarge']));
      assert.deepEqual(await stack.eventKinds(waiter.sessionId, `${server}.slow`).then((k) => k.filter((x) => x === 'executed' || x === 'failed')), modes.map(() => 'executed'));
      if (server === 'big') assert.equal(reached('huge'), huges + modes.length, 'each huge call reached the server once');
      assert.ok(logged.some((l) => l.startsWith(`upstream \`${server}\`: dropped a message`)), logged.join('\n'));
      const echo = await reader.call(`${server}.echo`, { text: 'still here' });
      assert.equal(echo.structured?.status, 'executed', echo.text);
    });
  }
});

describe('upstream message size limit (unit)', () => {
  const TAG = 'tag-1';
  /** A reader with a limit of 64 bytes; what it dropped. */
  function reader(): { r: BoundedLineReader; dropped: DroppedMessage[] } {
    const dropped: DroppedMessage[] = [];
    return { r: new BoundedLineReader({ tag: TAG, limitBytes: 64, onDropped: (d) => void dropped.push(d) }), dropped };
  }
  function readAll(r: BoundedLineReader): unknown[] {
    const out: unknown[] = [];
    for (let m = r.readMessage(); m !== null; m = r.readMessage()) out.push(m);
    return out;
  }
  const big = (n = 500) => 'x'.repeat(n);

  it('reads lines within the limit as the SDK does, across and within chunks', () => {
    const { r } = reader();
    const a = JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} });
    const b = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/x' });
    r.append(Buffer.from(a.slice(0, 10)));
    assert.deepEqual(readAll(r), []);
    r.append(Buffer.from(`${a.slice(10)}\r\n${b}\n${a.slice(0, 5)}`));
    assert.deepEqual(readAll(r), [JSON.parse(a), JSON.parse(b)]);
    r.append(Buffer.from(`${a.slice(5)}\n`));
    assert.deepEqual(readAll(r), [JSON.parse(a)]);
  });

  it('answers the request of a line over the limit with an error, id first or last, and reads on', () => {
    const { r, dropped } = reader();
    const first = JSON.stringify({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: big() }] } });
    const last = JSON.stringify({ result: { content: [{ type: 'text', text: big(), id: 99 }] }, jsonrpc: '2.0', id: 'req-8' });
    const next = JSON.stringify({ jsonrpc: '2.0', id: 9, result: {} });
    const bytes = Buffer.from(`${first}\n${last}\n${next}\n`);
    for (let i = 0; i < bytes.length; i += 13) r.append(bytes.subarray(i, i + 13)); // in small chunks
    const [a, b, c] = readAll(r) as { id: unknown; error?: unknown }[];
    assert.equal(a!.id, 7);
    assert.equal(b!.id, 'req-8');
    assert.deepEqual(tooLargeOf(a!.error, TAG), { limitBytes: 64, bytes: first.length });
    assert.equal(tooLargeOf(a!.error, 'another connection'), undefined);
    assert.deepEqual(c, JSON.parse(next));
    assert.deepEqual(dropped.map((d) => d.id), [7, 'req-8']);
  });

  it('drops a line over the limit whose id cannot be told, or that is no response', () => {
    const { r, dropped } = reader();
    const lines = [
      { jsonrpc: '2.0', method: 'notifications/message', params: { data: big() } }, // a notification
      { jsonrpc: '2.0', id: 3, method: 'sampling/createMessage', params: { data: big() } }, // the server's own request
      { jsonrpc: '2.0', result: { data: big(), id: 4 }, other: { id: 5 } }, // an id only inside values
    ].map((m) => JSON.stringify(m));
    r.append(Buffer.from(`${lines.join('\n')}\n${JSON.stringify({ jsonrpc: '2.0', id: 6, result: {} })}\n`));
    assert.deepEqual(readAll(r), [{ jsonrpc: '2.0', id: 6, result: {} }]);
    assert.deepEqual(dropped.map((d) => d.id), [undefined, undefined, undefined]);
  });

  it('finds the top-level id only, from either end of a line', () => {
    const text = big(5000);
    const cases: [unknown, string | number | undefined][] = [
      [{ jsonrpc: '2.0', id: 1, result: { text } }, 1],
      [{ result: { text }, jsonrpc: '2.0', id: 2 }, 2],
      [{ result: { text }, id: 3, jsonrpc: '2.0' }, 3],
      [{ jsonrpc: '2.0', id: 'a\\"b', result: { text } }, 'a\\"b'],
      [{ result: { text, s: '\\",\\"id\\":7}' } }, undefined], // an id inside a string
      [{ result: { text: `${text}","id":8}` } }, undefined],
      [{ error: { code: 1, message: text }, id: 9 }, 9],
      [{ id: null, error: { code: 1, message: text } }, undefined],
    ];
    for (const [msg, id] of cases) {
      const line = JSON.stringify(msg);
      assert.equal(answeredId(line.slice(0, 4096), line.slice(-4096)), id, line.slice(0, 80));
    }
  });

  it('caps a Streamable HTTP answer: a JSON body or an SSE event over the limit fails its request', async () => {
    const dropped: DroppedMessage[] = [];
    const post = { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 12, method: 'tools/call', params: {} }) };
    /** A server answering `body` in chunks of 7 bytes (events and line ends split across them). */
    const chunked = (body: string) => {
      const bytes = Buffer.from(body);
      let at = 0;
      return new ReadableStream<Uint8Array>({
        pull(c) {
          if (at >= bytes.length) return c.close();
          c.enqueue(bytes.subarray(at, (at += 7)));
        },
      });
    };
    const serve = (type: string, body: string) =>
      cappedFetch({ tag: TAG, limitBytes: 64, onDropped: (d) => void dropped.push(d), fetch: async () => new Response(chunked(body), { headers: { 'content-type': type, 'mcp-session-id': 's1' } }) });
    const small = JSON.stringify({ jsonrpc: '2.0', id: 12, result: {} });
    assert.equal(await (await serve('application/json', small)('http://x', post)).text(), small);
    const json = await serve('application/json', JSON.stringify({ jsonrpc: '2.0', id: 12, result: { text: big() } }))('http://x', post);
    assert.equal(json.headers.get('mcp-session-id'), 's1');
    const answer = (await json.json()) as { id: number; error: unknown };
    assert.equal(answer.id, 12);
    assert.deepEqual(tooLargeOf(answer.error, TAG), { limitBytes: 64 });
    const events = `event: message\ndata: ${small}\n\nevent: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 12, result: { text: big() } })}\n\n`;
    const sse = await (await serve('text/event-stream', events)('http://x', post)).text();
    const data = sse.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as { id: number; result?: unknown; error?: unknown });
    assert.deepEqual(data[0], JSON.parse(small));
    assert.equal(data.length, 2);
    assert.deepEqual(tooLargeOf(data[1]!.error, TAG), { limitBytes: 64 });
    // The server's own stream (a GET: no request): the event is dropped, the stream goes on.
    const own = await (await serve('text/event-stream', `data: ${big()}\r\n\r\n${events.split('\n\n')[0]}\n\n`)('http://x', { method: 'GET' })).text();
    assert.equal(own, `${events.split('\n\n')[0]}\n\n`);
    assert.deepEqual(dropped.map((d) => d.id), [12, 12, undefined]);
  });
});
