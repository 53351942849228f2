/**
 * runTool's guarantees against a real PostgreSQL, with the test tools of test/support/test-tools.ts:
 * write-ahead events land before the handler runs, each idempotency key runs at most once (also
 * under concurrent duplicates), a write and its ledger row commit together, transient failures
 * are retried by Temporal until the tool's last attempt, permanent ones are recorded and returned.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { AuditStore } from '../../audit/store';
import type { AuditEventInput } from '../../audit/types';
import { createToolActivities, type RunToolInput, type RunToolResult } from '../../activities/tools/activities';
import { MAX_FAILURE_MESSAGE_CHARS } from '../../activities/tools/tool-failures';
import { defineTool } from '../../activities/tools/define';
import { classifyError, ToolError } from '../../activities/tools/errors';
import { beginCall, ensureLedger } from '../../activities/tools/ledger';
import { REDACTED } from '../../activities/tools/redact';
import { createTestDatabase, type TestDatabase } from '../support/servers';
import { eventually } from '../support/eventually';
import { counterHits, createTestCatalog, ensureTestToolTables, flakyAttempts } from '../support/test-tools';

let db: TestDatabase;
let tools: ReturnType<typeof createToolActivities>;
/** Every batch the audit sink was asked to append, in order, next to what the real store did. */
const appended: AuditEventInput[][] = [];
/** What the handler of `test.seesEvents` saw in the events table of its session. */
const seen: string[][] = [];
/** `test.answersDifferently`: how often it ran, and the gate its first run waits at before failing. */
const differently = { runs: 0, entered: false, release: () => undefined as void };

before(async () => {
  db = await createTestDatabase('tools_run');
  await ensureTestToolTables(db.pool);
  await db.pool.query('CREATE TABLE side_effects (key text PRIMARY KEY)');
  const store = new AuditStore(db.pool);
  const audit = {
    async append(events: readonly AuditEventInput[]) {
      appended.push([...events]);
      return store.append(events);
    },
  };
  const seesEvents = defineTool({
    name: 'test.seesEvents',
    description: 'Read the audit events of its own session',
    effect: 'read',
    environment: 'test',
    resource: 'audit',
    input: z.object({}).strict(),
    output: z.object({ kinds: z.array(z.string()) }),
    timeoutMs: 5000,
    retry: { maxAttempts: 1 },
    idempotent: true,
    async handler(_args, ctx) {
      // Through a different connection than the caller's: only committed events are visible.
      const r = await db.pool.query('SELECT kind FROM events WHERE session_id = $1 ORDER BY seq', [ctx.sessionId]);
      const kinds = r.rows.map((x) => x.kind as string);
      seen.push(kinds);
      return { kinds };
    },
  });
  const badOutput = defineTool({
    name: 'test.badOutput',
    description: 'Write a row, then return a result that breaks the output schema',
    effect: 'write',
    environment: 'test',
    resource: 'things',
    input: z.object({ key: z.string() }).strict(),
    output: z.object({ ok: z.literal(true) }),
    timeoutMs: 5000,
    retry: { maxAttempts: 3 },
    idempotent: true,
    async handler(args, ctx) {
      await ctx.db.query('INSERT INTO side_effects (key) VALUES ($1)', [args.key]);
      return { ok: false } as unknown as { ok: true };
    },
  });
  const crashAfterWrite = defineTool({
    name: 'test.crashAfterWrite',
    description: 'Write a row, then fail transiently (a crash between the write and the ledger)',
    effect: 'write',
    environment: 'test',
    resource: 'things',
    input: z.object({ key: z.string(), crash: z.boolean() }).strict(),
    output: z.object({ key: z.string() }),
    timeoutMs: 5000,
    retry: { maxAttempts: 3 },
    idempotent: false,
    async handler(args, ctx) {
      await ctx.db.query('INSERT INTO side_effects (key) VALUES ($1)', [args.key]);
      if (args.crash) throw new ToolError('Crash', 'connection lost after the write', { retryable: true });
      return { key: args.key };
    },
  });
  const answersDifferently = defineTool({
    name: 'test.answersDifferently',
    description: 'Write a row, then fail for good, with another failure each run (a timeout, then a lost mark)',
    effect: 'write',
    environment: 'test',
    resource: 'things',
    input: z.object({ key: z.string() }).strict(),
    output: z.object({ ok: z.literal(true) }),
    timeoutMs: 5000,
    retry: { maxAttempts: 1 },
    idempotent: false,
    async handler(args, ctx) {
      differently.runs += 1;
      if (differently.runs > 1) throw new ToolError('OutcomeUnknown', 'a run before this one may have reached the server');
      await ctx.db.query('INSERT INTO side_effects (key) VALUES ($1)', [args.key]);
      differently.entered = true;
      await new Promise<void>((resolve) => (differently.release = resolve));
      throw new ToolError('UpstreamUnavailable', 'the server did not answer in time');
    },
  });
  // Shaped like an upstream MCP tool: its handler counts the notes the server's connection relayed.
  const relaysNotes = defineTool({
    name: 'test.relaysNotes',
    description: 'Relay `notes` upstream notifications, then answer (or fail for good)',
    effect: 'read',
    environment: 'test',
    resource: 'upstream',
    input: z.object({ notes: z.number().int(), fail: z.boolean() }).strict(),
    output: z.object({ ok: z.literal(true) }),
    timeoutMs: 5000,
    retry: { maxAttempts: 3, nonRetryable: ['UpstreamToolError'] },
    idempotent: false,
    upstream: { server: 'test', tool: 'relaysNotes' },
    async handler(args, ctx) {
      for (let i = 0; i < args.notes; i++) ctx.countRelayedNote?.();
      if (args.fail) throw new ToolError('UpstreamToolError', 'the upstream said no');
      return { ok: true as const };
    },
  });
  // Like a server that echoes what it was sent (a diff of an edit, a "no match for …" error).
  const echoes = defineTool({
    name: 'test.echoes',
    description: 'Write a row, then answer with (or fail naming) the text it was sent',
    effect: 'write',
    environment: 'test',
    resource: 'things',
    input: z.object({ key: z.string(), text: z.string(), fail: z.boolean(), times: z.number().int().min(1).max(10_000).default(1) }).strict(),
    output: z.object({ text: z.string() }),
    timeoutMs: 5000,
    retry: { maxAttempts: 1 },
    idempotent: false,
    async handler(args, ctx) {
      await ctx.db.query('INSERT INTO side_effects (key) VALUES ($1)', [args.key]);
      if (args.fail) throw new ToolError('UpstreamToolError', `no match for ${args.text}`);
      return { text: args.text.repeat(args.times) };
    },
  });
  // A server that echoes a secret argument in its answer or its error (an edit's diff, "no match for …").
  const echoesSecret = defineTool({
    name: 'test.echoesSecret',
    description: 'Answer with, or fail naming, the secret it was sent',
    effect: 'write',
    environment: 'test',
    resource: 'things',
    input: z.object({ path: z.string(), edits: z.array(z.object({ oldText: z.string(), newText: z.string() })), fail: z.boolean() }).strict(),
    output: z.object({ diff: z.string() }),
    sensitive: ['edits'],
    timeoutMs: 5000,
    retry: { maxAttempts: 1 },
    idempotent: false,
    async handler(args) {
      const [edit] = args.edits;
      if (args.fail) throw new ToolError('UpstreamToolError', `no match for edit: ${edit?.oldText}`, { details: { tried: edit?.oldText } });
      return { diff: `--- ${args.path}\n- ${edit?.oldText}\n+ ${edit?.newText}` };
    },
  });
  // A server that fails transiently, naming what it was sent (an agent's text, a secret among it).
  const echoesTransiently = defineTool({
    name: 'test.echoesTransiently',
    description: 'Fail transiently, naming the text and the token it was sent',
    effect: 'read',
    environment: 'test',
    resource: 'things',
    input: z.object({ text: z.string(), token: z.string() }).strict(),
    output: z.object({ ok: z.literal(true) }),
    sensitive: ['token'],
    timeoutMs: 5000,
    retry: { maxAttempts: 3 },
    idempotent: true,
    async handler(args) {
      throw new ToolError('EchoTransient', `no match for ${args.text} with ${args.token}`, { retryable: true });
    },
  });
  // Like a server whose own result claims to be a cut preview of a larger one, carrying far more.
  const claimsCut = defineTool({
    name: 'test.claimsCut',
    description: 'Answer a big result that says it is a small cut preview',
    effect: 'read',
    environment: 'test',
    resource: 'upstream',
    input: z.object({ chars: z.number().int() }).strict(),
    output: z.object({ truncated: z.literal(true), bytes: z.number(), filler: z.string() }),
    timeoutMs: 5000,
    retry: { maxAttempts: 1 },
    idempotent: true,
    async handler(args) {
      return { truncated: true as const, bytes: 1, filler: 'x'.repeat(args.chars) };
    },
  });
  const catalog = createTestCatalog({ database: db.pool, extra: [seesEvents, badOutput, crashAfterWrite, answersDifferently, relaysNotes, echoes, echoesSecret, echoesTransiently, claimsCut] });
  tools = createToolActivities({ catalog, audit });
});

after(async () => {
  await db?.drop();
});

function input(tool: string, args: Record<string, unknown>, opts: { sessionId?: string; key?: string } = {}): RunToolInput {
  const sessionId = opts.sessionId ?? `s-${randomUUID()}`;
  const at = '2026-11-21T10:00:00.000Z';
  return {
    sessionId,
    proposalSeq: 1,
    tool,
    args,
    idempotencyKey: opts.key ?? `${sessionId}:1`,
    before: [
      { sessionId, seq: 1, kind: 'proposed', at, proposalSeq: 1, tool, args, reasoning: 'test' },
      { sessionId, seq: 2, kind: 'decided', at, proposalSeq: 1, tool },
    ],
    afterSeq: 3,
    at,
  };
}

async function kinds(sessionId: string): Promise<string[]> {
  const r = await db.pool.query('SELECT kind FROM events WHERE session_id = $1 ORDER BY seq', [sessionId]);
  return r.rows.map((x) => x.kind as string);
}

describe('write-ahead audit', () => {
  it('appends the before events before the handler runs, the outcome after', async () => {
    const i = input('test.seesEvents', {});
    const r = await tools.runTool(i);
    assert.equal(r.status, 'executed');
    assert.deepEqual(r.result, { kinds: ['proposed', 'decided'] });
    assert.deepEqual(seen.at(-1), ['proposed', 'decided']);
    assert.deepEqual(await kinds(i.sessionId), ['proposed', 'decided', 'executed']);
  });
});

describe('exactly once per idempotency key', () => {
  it('a second call with the same key returns the stored result without running', async () => {
    const i = input('test.slowCounter', { counter: 'once', sleepMs: 50 });
    const first = await tools.runTool(i);
    const second = await tools.runTool(i);
    assert.deepEqual(first, { status: 'executed', result: { counter: 'once', hits: 1 }, latencyMs: first.latencyMs });
    assert.deepEqual(second, first);
    assert.equal((await counterHits(db.pool, 'once')).get(i.idempotencyKey), 1);
    assert.deepEqual(await kinds(i.sessionId), ['proposed', 'decided', 'executed'], 'outcome recorded once');
  });

  it('concurrent duplicates of one key run it once', async () => {
    const i = input('test.slowCounter', { counter: 'race', sleepMs: 300 });
    const results = await Promise.all([tools.runTool(i), tools.runTool(i), tools.runTool(i)]);
    assert.deepEqual(results.map((r) => r.result), [1, 1, 1].map(() => ({ counter: 'race', hits: 1 })));
    assert.deepEqual([...(await counterHits(db.pool, 'race')).values()], [1]);
  });

  it('a duplicate waiting on the key while the first attempt fails for good gets that failure, and nothing runs twice', async () => {
    // A workflow task retried while its local activity still runs starts a second attempt of the
    // same call: it waits for the key's lock, and must then find the first's failure in the ledger.
    // Were the lock let go before the failure is recorded, it would run the handler again, answer
    // differently, and its outcome event would conflict with the first's (the session lost).
    const i = input('test.answersDifferently', { key: 'twice' });
    const first = tools.runTool(i);
    await eventually(() => differently.entered, { what: 'the first attempt inside its handler' });
    const second = tools.runTool(i);
    await eventually(
      async () => (await db.pool.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")).rows[0].n > 0,
      { what: 'the duplicate waiting for the key lock' },
    );
    differently.release();
    const [a, b] = await Promise.all([first, second]);
    assert.equal(differently.runs, 1);
    assert.deepEqual([a.status, a.error?.type], ['failed', 'UpstreamUnavailable']);
    assert.deepEqual(b.error, a.error);
    assert.deepEqual(await kinds(i.sessionId), ['proposed', 'decided', 'failed']);
    assert.equal((await db.pool.query("SELECT count(*)::int AS n FROM side_effects WHERE key = 'twice'")).rows[0].n, 0, 'the failed run’s write is undone');
  });

  it('a key and a result of any characters run once and come back exactly from the ledger', async () => {
    // The ledger's opening and closing statements carry them as escaped literals, not parameters.
    const hostile = `it's \\ "q" $$x$$ \\' ä 🎉'); DROP TABLE tool_executions; --`;
    const i = input('test.slowCounter', { counter: hostile.slice(0, 64) }, { key: `s-${randomUUID()}:${hostile}` });
    const first = await tools.runTool(i);
    const second = await tools.runTool(i);
    assert.deepEqual(first.result, { counter: hostile.slice(0, 64), hits: 1 });
    assert.deepEqual(second, first);
    assert.deepEqual([...(await counterHits(db.pool, hostile.slice(0, 64))).entries()], [[i.idempotencyKey, 1]]);
    const stored = await db.pool.query('SELECT idempotency_key, result FROM tool_executions WHERE idempotency_key = $1', [i.idempotencyKey]);
    assert.deepEqual(stored.rows, [{ idempotency_key: i.idempotencyKey, result: first.result }]);
  });

  it('a result or an error echoing a NUL or a lone surrogate is stored as U+FFFD: the call that took effect is recorded as it ran', async () => {
    for (const fail of [false, true]) {
      const key = `echo-${randomUUID()}`;
      const i = input('test.echoes', { key, text: 'a\u0000b\ud800c', fail });
      const first = await tools.runTool(i);
      const second = await tools.runTool(i);
      if (fail) assert.deepEqual([first.status, first.error?.message], ['failed', 'no match for a\ufffdb\ufffdc']);
      else assert.deepEqual([first.status, first.result], ['executed', { text: 'a\ufffdb\ufffdc' }]);
      assert.deepEqual(second, { ...first, latencyMs: second.latencyMs }, 'answered from the ledger exactly');
      const stored = await db.pool.query('SELECT status FROM tool_executions WHERE idempotency_key = $1', [i.idempotencyKey]);
      assert.deepEqual(stored.rows, [{ status: fail ? 'failed' : 'executed' }]);
      const effects = await db.pool.query('SELECT count(*)::int AS n FROM side_effects WHERE key = $1', [key]);
      assert.equal(effects.rows[0].n, fail ? 0 : 1, fail ? 'a final failure undoes the write' : 'the write that took effect is kept with its ledger row');
    }
  });

  it('a secret argument a server echoes in its result or its error reaches neither the trail nor the ledger\'s error', async () => {
    const edits = [{ oldText: 'password=hunter2-old', newText: 'password=hunter2-new' }];
    const ran = input('test.echoesSecret', { path: '/etc/app.env', edits, fail: false });
    const ok = await tools.runTool(ran);
    assert.equal(ok.status, 'executed');
    const failing = input('test.echoesSecret', { path: '/etc/app.env', edits, fail: true });
    const bad = await tools.runTool(failing);
    assert.deepEqual([bad.status, bad.error?.message], ['failed', 'no match for edit: [REDACTED]']);
    for (const sessionId of [ran.sessionId, failing.sessionId]) {
      const trail = await db.pool.query('SELECT args, error, detail FROM events WHERE session_id = $1', [sessionId]);
      assert.doesNotMatch(JSON.stringify(trail.rows), /hunter2/, 'the trail holds no secret');
    }
    const [outcome] = (await db.pool.query('SELECT detail FROM events WHERE session_id = $1 AND kind = $2', [ran.sessionId, 'executed'])).rows;
    assert.equal(outcome.detail.result.diff, '--- /etc/app.env\n- [REDACTED]\n+ [REDACTED]');
    const ledger = await db.pool.query('SELECT error FROM tool_executions WHERE idempotency_key = $1', [failing.idempotencyKey]);
    assert.doesNotMatch(JSON.stringify(ledger.rows), /hunter2/);
  });

  it('a result past what a session carries is kept whole in the ledger and handed back as a sized preview, the same from the ledger', async () => {
    const key = `big-${randomUUID()}`;
    const text = 'x'.repeat(3 * 1024 * 1024);
    const i = input('test.echoes', { key, text: 'x'.repeat(1024), times: 3 * 1024, fail: false });
    const first = await tools.runTool(i);
    const again = await tools.runTool(i);
    const bytes = JSON.stringify({ text }).length;
    assert.equal(first.status, 'executed', JSON.stringify(first.error));
    assert.deepEqual({ ...(first.result as object), preview: undefined }, { truncated: true, bytes, preview: undefined });
    assert.equal((first.result as { preview: string }).preview, JSON.stringify({ text }).slice(0, 16 * 1024));
    assert.deepEqual(again.result, first.result);
    const stored = await db.pool.query('SELECT length(result->>$2) AS n FROM tool_executions WHERE idempotency_key = $1', [i.idempotencyKey, 'text']);
    assert.equal(stored.rows[0].n, text.length, 'the ledger keeps the whole result');
    const [outcome] = (await db.pool.query('SELECT detail FROM events WHERE session_id = $1 AND kind = $2', [i.sessionId, 'executed'])).rows;
    assert.deepEqual(outcome.detail.result, { truncated: true, bytes });
  });

  it('a result that only claims to be a cut preview is sized by what it is: the trail keeps no more than its bound', async () => {
    const i = input('test.claimsCut', { chars: 100_000 });
    const ran = await tools.runTool(i);
    assert.equal(ran.status, 'executed');
    const [outcome] = (await db.pool.query('SELECT detail FROM events WHERE session_id = $1 AND kind = $2', [i.sessionId, 'executed'])).rows;
    assert.deepEqual(outcome.detail.result, { truncated: true, bytes: JSON.stringify({ truncated: true, bytes: 1, filler: 'x'.repeat(100_000) }).length });
  });

  it('an attempt waiting on a stuck duplicate’s lock times out with the tool’s timeout (transient)', async () => {
    const key = `s-${randomUUID()}:stuck`;
    const holder = await db.pool.connect();
    const waiter = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7))', [key]);
      await ensureLedger(db.pool);
      // The holder keeps the lock until the end of this test: only the timeout can end the wait.
      const err = await beginCall(waiter, key, 300).then(() => assert.fail('the lock wait ended without the timeout'), (e: unknown) => e);
      assert.equal((err as { code?: string }).code, '57014'); // query_canceled
      assert.equal(classifyError(err).retryable, true, 'retried by Temporal, not recorded as final');
      await waiter.query('ROLLBACK');
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
      waiter.release();
    }
  });

  it('a key reused for the same tool with other arguments is refused; with the same arguments it is answered from the ledger', async () => {
    const i = input('test.slowCounter', { counter: 'reuse-args' });
    const first = await tools.runTool(i);
    assert.equal(first.status, 'executed');
    // The session's next call (its own seqs) under the same key: what an agent that names its key again sends.
    const next = (args: Record<string, unknown>, n: number): RunToolInput => ({
      ...i, proposalSeq: n, args,
      before: [
        { sessionId: i.sessionId, seq: 3 * n - 2, kind: 'proposed', at: '2026-11-21T10:00:00.000Z', proposalSeq: n, tool: i.tool, args, reasoning: 'test' },
        { sessionId: i.sessionId, seq: 3 * n - 1, kind: 'decided', at: '2026-11-21T10:00:00.000Z', proposalSeq: n, tool: i.tool },
      ],
      afterSeq: 3 * n,
    });
    const other = await tools.runTool(next({ counter: 'reuse-args-2' }, 2));
    assert.deepEqual([other.status, other.error?.type, other.error?.message], ['failed', 'IdempotencyKeyConflict', 'idempotency key already used for a call with other arguments']);
    assert.deepEqual([...(await counterHits(db.pool, 'reuse-args-2')).values()], [], 'the other call never ran');
    const again = await tools.runTool(next({ ...i.args }, 3));
    assert.deepEqual([again.status, again.result], ['executed', first.result]);
    const [ledger] = (await db.pool.query('SELECT args_digest FROM tool_executions WHERE idempotency_key = $1', [i.idempotencyKey])).rows;
    assert.match(ledger.args_digest, /^[0-9a-f]{64}$/);
  });

  it('a ledger row of an older worker (no argument digest) is answered as before', async () => {
    const i = input('test.slowCounter', { counter: 'old-row' });
    await db.pool.query(
      `INSERT INTO tool_executions (idempotency_key, tool, session_id, proposal_seq, status, result, error, latency_ms)
       VALUES ($1, 'test.slowCounter', $2, 1, 'executed', '{"hits":41}'::jsonb, NULL, 5)`,
      [i.idempotencyKey, i.sessionId],
    );
    const r = await tools.runTool({ ...i, args: { counter: 'other' } });
    assert.deepEqual([r.status, r.result], ['executed', { hits: 41 }]);
    assert.deepEqual([...(await counterHits(db.pool, 'other')).values()], [], 'nothing ran');
  });

  it('a key reused for another tool is refused', async () => {
    const i = input('test.slowCounter', { counter: 'reuse' });
    await tools.runTool(i);
    const r = await tools.runTool({ ...input('test.seesEvents', {}), idempotencyKey: i.idempotencyKey });
    assert.deepEqual([r.status, r.error?.type], ['failed', 'IdempotencyKeyConflict']);
  });
});

describe('a write-ahead append that fails', () => {
  it('is the call’s failure: thrown, the handler never runs, and the key is free for the retry', async () => {
    // The ledger opens the call while the append is in flight; an append that fails at once
    // (before the ledger answers) must neither run the handler nor count as an unhandled rejection.
    const down = new Error('audit database unreachable');
    const failing = createToolActivities({ catalog: createTestCatalog({ database: db.pool }), audit: { append: () => Promise.reject(down) } });
    const i = input('test.slowCounter', { counter: 'unwritten' });
    await assert.rejects(failing.runTool(i), (err) => err === down);
    assert.deepEqual([...(await counterHits(db.pool, 'unwritten')).values()], [], 'nothing ran');
    assert.deepEqual(await kinds(i.sessionId), []);
    // The lock went with the rolled-back transaction: the retry (audit back) runs the call once.
    const retried = await tools.runTool(i);
    assert.deepEqual(retried.result, { counter: 'unwritten', hits: 1 });
    assert.deepEqual(await kinds(i.sessionId), ['proposed', 'decided', 'executed']);
  });
});

describe('the write and the ledger commit together', () => {
  it('a failure after the write rolls the write back, and the retry runs it', async () => {
    const i = input('test.crashAfterWrite', { key: 'w1', crash: true });
    await assert.rejects(tools.runTool(i), (e: unknown) => e instanceof ApplicationFailure && e.type === 'Crash' && !e.nonRetryable);
    const rows = await db.pool.query("SELECT count(*)::int AS n FROM side_effects WHERE key = 'w1'");
    assert.equal(rows.rows[0].n, 0, 'no half-applied write');
    assert.equal((await db.pool.query('SELECT count(*)::int AS n FROM tool_executions WHERE idempotency_key = $1', [i.idempotencyKey])).rows[0].n, 0);
    const retry = await tools.runTool({ ...i, args: { key: 'w1', crash: false } });
    assert.equal(retry.status, 'executed');
    assert.equal((await db.pool.query("SELECT count(*)::int AS n FROM side_effects WHERE key = 'w1'")).rows[0].n, 1);
  });

  it('a result that breaks the output schema fails permanently and undoes the write', async () => {
    const i = input('test.badOutput', { key: 'bad1' });
    const r = await tools.runTool(i);
    assert.deepEqual([r.status, r.error?.type, r.error?.retryable], ['failed', 'ToolOutputError', false]);
    assert.equal((await db.pool.query("SELECT count(*)::int AS n FROM side_effects WHERE key = 'bad1'")).rows[0].n, 0);
  });
});

describe('retries', () => {
  it('a transient failure throws a retryable ApplicationFailure and records no outcome', async () => {
    const i = input('test.flaky', { key: 'f1', failTimes: 1 });
    await assert.rejects(tools.runTool(i), (e: unknown) => e instanceof ApplicationFailure && e.type === 'FlakyTransient' && !e.nonRetryable);
    assert.deepEqual(await kinds(i.sessionId), ['proposed', 'decided']);
    const r = await tools.runTool(i);
    assert.deepEqual(r.result, { key: 'f1', attempts: 2 });
    assert.deepEqual(await kinds(i.sessionId), ['proposed', 'decided', 'executed']);
  });

  it('on the tool’s last attempt a transient failure is returned as failed', async () => {
    const env = new MockActivityEnvironment({ attempt: 4 });
    const i = input('test.flaky', { key: 'f2', failTimes: 10 });
    const r = (await env.run(tools.runTool, i)) as RunToolResult;
    assert.deepEqual([r.status, r.error?.type, r.error?.retryable], ['failed', 'FlakyTransient', true]);
    assert.deepEqual(await kinds(i.sessionId), ['proposed', 'decided', 'failed']);
  });

  it('a permanent failure is recorded once and returned again without running', async () => {
    const i = input('test.flaky', { key: 'f3', failTimes: 0, permanent: true });
    const r = await tools.runTool(i);
    assert.deepEqual([r.status, r.error?.type, r.error?.retryable], ['failed', 'FlakyPermanent', false]);
    const again = await tools.runTool(i);
    assert.deepEqual(again, r);
    assert.equal(await flakyAttempts(db.pool, 'f3'), 1);
  });

  it('a retried failure’s message is one bounded line, secrets hidden; the final failure keeps its text', async () => {
    // An agent's argument echoed in the error: 40 Ki characters of forged log lines (arguments are at most 64 KiB).
    const forged = '\n2026-11-21T10:00:00.000Z [INFO] approved by eng-002\r\u2028'.repeat(1_200).slice(0, 40 * 1024);
    const token = 'tok-SECRET-4411';
    const i = input('test.echoesTransiently', { text: forged, token });
    let thrown: ApplicationFailure | undefined;
    await assert.rejects(tools.runTool(i), (e: unknown) => ((thrown = e as ApplicationFailure), e instanceof ApplicationFailure && e.type === 'EchoTransient' && !e.nonRetryable));
    const message = thrown!.message;
    assert.ok(message.length <= MAX_FAILURE_MESSAGE_CHARS, `${message.length} characters`);
    assert.match(message, /^no match for \\u000a2026-11-21T10:00:00\.000Z \[INFO\] approved by eng-002\\u000d\\u2028/);
    assert.equal(/[\r\n\u2028\u2029]/.test(message), false, 'no line break');
    // What the worker prints of it: the stack starts with the message, on one line.
    assert.match((thrown!.stack ?? '').split('\n')[1] ?? '', /^\s+at /);
    // A secret near the start is hidden before the message is escaped and cut.
    const short = input('test.echoesTransiently', { text: 'a\nb', token }, { key: 'short-secret' });
    await assert.rejects(tools.runTool(short), (e: unknown) => e instanceof ApplicationFailure && e.message === `no match for a\\u000ab with ${REDACTED}`);
    assert.deepEqual(await kinds(i.sessionId), ['proposed', 'decided'], 'a retried attempt records no outcome');

    // The last attempt: the ledger and the trail keep the failure as they did (secret hidden, text whole).
    const last = (await new MockActivityEnvironment({ attempt: 3 }).run(tools.runTool, i)) as RunToolResult;
    assert.deepEqual([last.status, last.error?.type, last.error?.retryable], ['failed', 'EchoTransient', true]);
    assert.equal(last.error?.message, `no match for ${forged} with ${REDACTED}`);
    const stored = await db.pool.query('SELECT error FROM events WHERE session_id = $1 AND kind = $2', [i.sessionId, 'failed']);
    assert.equal(stored.rows[0]?.error, `no match for ${forged} with ${REDACTED}`);
  });

  it('heartbeats while a slow handler runs inside an activity', async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 900 });
    let beats = 0;
    env.on('heartbeat', () => beats++);
    const r = (await env.run(tools.runTool, input('test.slowCounter', { counter: 'hb', sleepMs: 1200 }))) as RunToolResult;
    assert.equal(r.status, 'executed');
    assert.ok(beats >= 2, `heartbeats: ${beats}`);
  });
});

describe('notes an upstream tool relayed', () => {
  it('are counted on the first attempt, executed or failed, and on no other', async () => {
    const ran = await tools.runTool(input('test.relaysNotes', { notes: 3, fail: false }));
    assert.deepEqual([ran.status, ran.relayedNotes], ['executed', 3]);
    const none = await tools.runTool(input('test.relaysNotes', { notes: 0, fail: false }));
    assert.deepEqual([none.status, none.relayedNotes], ['executed', 0], 'none relayed: the gateway need not wait');
    const failed = await tools.runTool(input('test.relaysNotes', { notes: 2, fail: true }));
    assert.deepEqual([failed.status, failed.relayedNotes], ['failed', 2]);
    // A later attempt: an earlier one may have relayed notes under the same key, so no count.
    const later = (await new MockActivityEnvironment({ attempt: 2 }).run(tools.runTool, input('test.relaysNotes', { notes: 1, fail: false }))) as RunToolResult;
    assert.deepEqual([later.status, 'relayedNotes' in later], ['executed', false]);
  });

  it('are not reported for a call answered from the ledger, nor for a catalog tool', async () => {
    const i = input('test.relaysNotes', { notes: 1, fail: false }, { key: `again-${randomUUID()}` });
    assert.equal((await tools.runTool(i)).relayedNotes, 1);
    const again = await tools.runTool({ ...i, before: [] });
    assert.deepEqual([again.status, 'relayedNotes' in again], ['executed', false]);
    const catalog = await tools.runTool(input('test.seesEvents', {}));
    assert.deepEqual([catalog.status, 'relayedNotes' in catalog], ['executed', false]);
  });
});

describe('invalid calls', () => {
  it('invalid arguments are recorded as a failed call and run nothing', async () => {
    const i = input('test.slowCounter', { counter: '', sleepMs: -1 });
    const r = await tools.runTool(i);
    assert.deepEqual([r.status, r.error?.type, r.error?.retryable], ['failed', 'ToolArgumentsError', false]);
    assert.equal((await counterHits(db.pool)).has(i.idempotencyKey), false);
    assert.deepEqual(await kinds(i.sessionId), ['proposed', 'decided', 'failed']);
  });

  it('checked first (no prepareCall), invalid arguments or an unknown tool come back `invalid`: nothing written, nothing run', async () => {
    const bad = input('test.slowCounter', { counter: '', sleepMs: -1 });
    const r = await tools.runTool({ ...bad, checkFirst: true });
    assert.equal(r.status, 'invalid');
    assert.deepEqual(r.status === 'invalid' ? r.issues.map((x) => x.path).sort() : [], ['counter', 'sleepMs']);
    assert.equal((await counterHits(db.pool)).has(bad.idempotencyKey), false);
    assert.deepEqual(await kinds(bad.sessionId), []);
    const unknown = input('test.nothingCalledThis', { a: 1 });
    const u = await tools.runTool({ ...unknown, checkFirst: true });
    assert.deepEqual([u.status, u.status === 'invalid' ? u.issues[0]?.code : undefined], ['invalid', 'unknown_tool']);
    assert.deepEqual(await kinds(unknown.sessionId), []);
    // Valid: the call runs as without the flag, and says how its arguments are recorded.
    const good = input('test.slowCounter', { counter: 'cf' });
    const g = await tools.runTool({ ...good, checkFirst: true });
    assert.deepEqual([g.status, g.redactedArgs], ['executed', { counter: 'cf' }]);
    assert.deepEqual(await kinds(good.sessionId), ['proposed', 'decided', 'executed']);
  });

  it('prepareCall reports issues with paths and has no side effects', async () => {
    const p = await tools.prepareCall({ tool: 'test.flaky', args: { key: 'k', failTimes: 11, extra: 1 } });
    assert.equal(p.valid, false);
    assert.deepEqual(p.issues?.map((x) => x.path).sort(), ['', 'failTimes']);
    assert.equal(await flakyAttempts(db.pool, 'k'), 0);
  });

  it('the outcome event carries the redacted arguments and the idempotency key', async () => {
    const i = input('test.slowCounter', { counter: 'ev' });
    await tools.runTool(i);
    const last = appended.at(-1)![0]!;
    assert.deepEqual([last.kind, last.seq, last.detail?.idempotencyKey, last.at], ['executed', 3, i.idempotencyKey, i.at]);
    assert.deepEqual(last.detail?.result, { counter: 'ev', hits: 1 });
  });
});
