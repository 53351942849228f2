/**
 * Upstream faults: a server that answers garbage, reports an error, crashes mid-call, hangs, changes
 * its tool list, or is not installed. Each call ends as a recorded failed call whose error names
 * the server, and the session goes on; a crashed stdio server is started again. A call whose
 * earlier attempt died mid-call is not repeated on a tool the policy does not call idempotent.
 * The misbehaving server is a fixture (`fixtures/faulty-server.mjs`): no real server misbehaves on cue.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditEventInput } from '../../audit/types';
import { createToolActivities } from '../../activities/tools/activities';
import { ensureInFlight } from '../../activities/upstreams';
import type { NamedUpstream } from '../../activities/upstreams';
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
const MISSING: NamedUpstream = { name: 'missing', command: join(dir, 'no-such-mcp-server'), args: [], env: {}, timeoutMs: 3_000, maxAttempts: 3, sensitive: {} };
const POLICY = policyOf({
  name: 'mcp-faults-test',
  upstreamTools: { 'faulty.echo': { effect: 'read', idempotent: true }, 'faulty.*': { effect: 'read' }, 'missing.*': { effect: 'read' } },
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
before(async () => {
  stack = await startUpstreamStack('upstream_faults', [FAULTY, MISSING], POLICY);
});
after(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('upstream faults', () => {
  it('follows tools/list pagination, and a server that is not installed leaves its tools unknown', async () => {
    assert.deepEqual(stack.catalog.names().sort(), ['faulty.crash', 'faulty.echo', 'faulty.fail', 'faulty.garbage', 'faulty.grow', 'faulty.hang']);
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
});
