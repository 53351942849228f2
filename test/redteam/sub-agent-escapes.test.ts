/**
 * Red team: a sub-agent cannot get out from under its parent (the review of sub-agents, three
 * gaps). The attacker holds its own credential and the gateway; the operator holds the Temporal
 * client, and pauses or halts one session the way `gatehouse pause` / `gatehouse halt` do.
 *
 * - Outliving the parent: the agent starts `S`, spawns `S.1`, spawns `S.1.1` from `S.1`, and ends
 *   `S.1`. A halt of `S` reached `S.1` (closed) and stopped there: `S.1.1`'s writes still ran. Or
 *   the agent ends `S` itself, and `gatehouse halt S` has nothing to act on. A session that ends now
 *   halts its children (and each level its own).
 * - Working around a pause: the operator pauses `S`; the agent goes on through `S.1`, calling tools
 *   and spawning. A pause (of the session or of one tool) now reaches the children, a child spawned
 *   under a tool pause starts with it, and a pause of `session.spawnChild` holds the agent's spawns.
 * - A wider mandate: a parent whose mandate holds `test.slowWrite` for a human spawns a child with
 *   no mandate, or a wider one, which ran it on its own. A child's mandate now only narrows its
 *   parent's (none asked: the parent's; one sharing nothing with it: refused, `child.mandate`).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { signDecision } from '../../client/trust/sign';
import { pauseSignal, resumeSignal } from '../../workflows/contract';
import { startFixture, type GatewayFixture, type Reply } from '../gateway/client';
import { testTrust } from '../support/trust';
import { eventually } from '../support/eventually';
import { assertAuditVerifies, assertNotExecuted, productionSnapshot } from './attacker';

const trust = testTrust();
const INTENT = 'write numbered rows to the staging config';
// Pauses and halts here go to one session at a time; this file's agents are its own all the same.
const AGENT = `escape-bot-${randomUUID().slice(0, 8)}`;
let f: GatewayFixture;
let token: string;

before(async () => {
  f = await startFixture('redteam_escapes', { openSessions: 100, requestsPerSecond: 100, burst: 200 });
  token = await trust.credential(AGENT, 'eng-007');
});
after(async () => {
  await f?.close();
});

async function start(body: Record<string, unknown> = {}): Promise<string> {
  const r = await f.call('POST', '/v1/sessions', { token, body: { intent: INTENT, ...body } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.sessionId as string;
}

function spawn(parent: string, body: Record<string, unknown> = {}, wait?: number): Promise<Reply> {
  return f.call('POST', `/v1/sessions/${parent}/children${wait !== undefined ? `?wait=${wait}` : ''}`, { token, body: { agentId: 'worker', intent: INTENT, ...body } });
}

async function spawned(parent: string, body: Record<string, unknown> = {}): Promise<string> {
  const r = await spawn(parent, body);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.status, 'started', JSON.stringify(r.body));
  return r.body.sessionId as string;
}

function propose(sessionId: string, tool: string, args: Record<string, unknown>, wait = 1): Promise<Reply> {
  return f.call('POST', `/v1/sessions/${sessionId}/proposals?wait=${wait}`, { token, body: { tool, args, reasoning: 'the work' } });
}

async function view(sessionId: string): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any -- the state view as JSON
  const r = await f.call('GET', `/v1/sessions/${sessionId}`, { token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

const halted = (sessionId: string) => eventually(async () => ((await view(sessionId)).halted ? true : undefined), { what: `\`${sessionId}\` halted`, timeoutMs: 15_000 });
const haltEvent = async (sessionId: string) => (await eventually(async () => (await f.h.events(sessionId)).find((e) => e.kind === 'halted'), { what: `the halt of \`${sessionId}\`` })).detail;

/** The operator's pause of one session (no signature: stopping is always allowed). */
async function pause(sessionId: string, tool?: string): Promise<void> {
  await f.h.gh.session(sessionId).workflow.signal(pauseSignal, { by: 'oncall', reason: 'INC-7', ...(tool ? { tool } : {}) });
}

/** The operator's signed resume of one session. */
async function resume(sessionId: string): Promise<void> {
  const s = f.h.gh.session(sessionId);
  const v = await s.state();
  await s.workflow.signal(resumeSignal, signDecision(trust.operator, { kind: 'resume', workflowId: v.workflowId, firstRunId: v.firstRunId }));
}

/** The `decided` event of a spawn that started, in the parent's trail. */
async function startedSpawn(parent: string, child: string): Promise<Record<string, unknown>> {
  const e = (await f.h.events(parent)).find((x) => x.kind === 'decided' && x.tool === 'session.spawnChild' && x.detail?.childSessionId === child && x.detail?.status === 'started');
  assert.ok(e, `the spawn of ${child} in ${parent}'s trail`);
  return e.detail!;
}

describe('a sub-agent does not outlive its parent', () => {
  it('ending `S.1` halts `S.1.1`, so a halt of `S` leaves nothing running below it: `S.1.1`\'s write never runs', async () => {
    const before = await productionSnapshot(f.h);
    const s = await start();
    const s1 = await spawned(s);
    const s11 = await spawned(s1, { agentId: 'helper' });
    const ended = await f.call('POST', `/v1/sessions/${s1}/end`, { token, body: { reason: 'done here' } });
    assert.equal(ended.status, 200, JSON.stringify(ended.body));
    assert.equal((await f.call('POST', `/v1/sessions/${s}/halt`, { token, body: { reason: 'incident' } })).status, 202);
    await halted(s11);
    assert.deepEqual(await haltEvent(s11), { by: `session:${s1}`, reason: 'parent session ended: completed (done here)' });
    const write = await propose(s11, 'test.slowWrite', { n: 1 });
    assert.equal(write.status, 409, JSON.stringify(write.body));
    await assertNotExecuted(f.h, s11);
    assert.deepEqual(await productionSnapshot(f.h), before);
    await assertAuditVerifies(f.h);
  });

  it('an agent that ends `S` itself (where `gatehouse halt S` finds a closed session) halts the whole tree below it', async () => {
    const before = await productionSnapshot(f.h);
    const s = await start();
    const s1 = await spawned(s);
    const s11 = await spawned(s1, { agentId: 'helper' });
    const ended = await f.call('POST', `/v1/sessions/${s}/end`, { token, body: { reason: 'handing over to the workers' } });
    assert.equal(ended.status, 200, JSON.stringify(ended.body));
    await halted(s1);
    await halted(s11);
    assert.deepEqual(await haltEvent(s1), { by: `session:${s}`, reason: 'parent session ended: completed (handing over to the workers)' });
    // `S.1` was halted: it sent its halt on, as a halt always did.
    assert.deepEqual(await haltEvent(s11), { by: `session:${s}`, reason: 'parent session halted: parent session ended: completed (handing over to the workers)' });
    for (const id of [s1, s11]) assert.equal((await propose(id, 'test.slowWrite', { n: 2 })).status, 409);
    // Each was halted once: the halted `S.1` ended without halting `S.1.1` a second time.
    assert.equal((await f.h.events(s11)).filter((e) => e.kind === 'halted').length, 1);
    for (const id of [s, s1, s11]) await assertNotExecuted(f.h, id);
    assert.deepEqual(await productionSnapshot(f.h), before);
    await assertAuditVerifies(f.h);
  });
});

describe('a pause reaches the sub-agents', () => {
  it('the operator pauses `S`: `S.1` calls no tool and starts no sub-agent until it is resumed itself', async () => {
    const before = await productionSnapshot(f.h);
    const s = await start();
    const s1 = await spawned(s);
    await pause(s);
    await eventually(async () => ((await view(s1)).paused ? true : undefined), { what: `\`${s1}\` paused with its parent`, timeoutMs: 15_000 });
    const write = await propose(s1, 'test.slowWrite', { n: 3 });
    assert.equal(write.status, 202, JSON.stringify(write.body));
    assert.equal((await spawn(s1, { agentId: 'helper' }, 1)).status, 202);
    assert.equal((await spawn(s, { agentId: 'other' }, 1)).status, 202);
    await assertNotExecuted(f.h, s1);
    assert.deepEqual(await productionSnapshot(f.h), before);
    const paused = (await f.h.events(s1)).find((e) => e.kind === 'paused');
    assert.deepEqual(paused?.detail, { by: 'oncall', reason: 'parent session paused: INC-7' });
    // A resume is signed per session: `S.1`'s own lets its write run; `S` stays paused.
    await resume(s1);
    await eventually(async () => (await f.h.events(s1)).find((e) => e.kind === 'executed'), { what: `\`${s1}\`'s write, once resumed` });
    assert.equal((await view(s)).paused, true);
    assert.equal((await f.call('POST', `/v1/sessions/${s}/halt`, { token, body: { reason: 'done' } })).status, 202);
  });

  it('a tool paused in `S` is paused in `S.1`, and in `S.2` spawned after the pause; pausing `session.spawnChild` holds the spawns', async () => {
    const before = await productionSnapshot(f.h);
    const s = await start();
    const s1 = await spawned(s);
    await pause(s, 'test.slowWrite');
    await eventually(async () => ((await view(s1)).pausedTools?.includes('test.slowWrite') ? true : undefined), { what: `\`${s1}\`'s tool paused with its parent's`, timeoutMs: 15_000 });
    const s2 = await spawned(s, { agentId: 'late' });
    assert.deepEqual((await startedSpawn(s, s2)).pausedTools, ['test.slowWrite']);
    await eventually(async () => ((await view(s2)).pausedTools?.includes('test.slowWrite') ? true : undefined), { what: `\`${s2}\` started with the tool paused` });
    // Only that tool: a read goes on (before the held write, which the session's queue waits behind).
    const read = await propose(s2, 'volumes.list', {});
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.equal(read.body.status, 'executed');
    for (const id of [s1, s2]) assert.equal((await propose(id, 'test.slowWrite', { n: 4 })).status, 202);
    await pause(s, 'session.spawnChild');
    await eventually(async () => ((await view(s1)).pausedTools?.includes('session.spawnChild') ? true : undefined), { what: `\`${s1}\`'s spawning paused`, timeoutMs: 15_000 });
    // `S`'s queue is empty: the spawn waits for that pause alone.
    assert.equal((await spawn(s, { agentId: 'held' }, 1)).status, 202);
    for (const id of [s, s1, s2]) assert.deepEqual((await f.h.events(id)).filter((e) => e.kind === 'executed' && e.tool !== 'volumes.list'), []);
    assert.deepEqual(await productionSnapshot(f.h), before);
    assert.equal((await f.call('POST', `/v1/sessions/${s}/halt`, { token, body: { reason: 'done' } })).status, 202);
    await assertAuditVerifies(f.h);
  });
});

describe('a sub-agent\'s mandate only narrows its parent\'s', () => {
  it('a child spawned without a mandate takes its parent\'s: the write its parent must ask a human for, it must ask for too', async () => {
    const before = await productionSnapshot(f.h);
    const s = await start({ mandate: { tools: ['test.read*'] } });
    const s1 = await spawned(s);
    for (const id of [s1, s]) {
      const write = await propose(id, 'test.slowWrite', { n: 5 });
      assert.equal(write.status, 202, `${id}: ${JSON.stringify(write.body)}`);
      const held = await eventually(async () => (await view(id)).pendingApprovals[0], { what: `the write held in ${id}` });
      assert.equal(held.tool, 'test.slowWrite');
      await assertNotExecuted(f.h, id);
    }
    // Held by the mandate it took from its parent (a staging write is otherwise autonomous).
    const decided = await f.h.audit.pool.query("SELECT decision FROM events WHERE session_id = $1 AND kind = 'decided' AND tool = 'test.slowWrite'", [s1]);
    assert.deepEqual(decided.rows.map((r) => [r.decision.verdict, r.decision.reasons.map((x: { rule: string }) => x.rule)]), [['approve', ['mandate.outside']]]);
    assert.deepEqual((await startedSpawn(s, s1)).mandate, { tools: ['test.read*'], resources: [] });
    assert.deepEqual(await productionSnapshot(f.h), before);
    for (const id of [s, s1]) assert.equal((await f.call('POST', `/v1/sessions/${id}/halt`, { token, body: { reason: 'done' } })).status, 202);
  });

  it('a child asking for a wider mandate gets what lies inside both; one sharing nothing with its parent\'s is refused', async () => {
    const s = await start({ mandate: { tools: ['test.slow*', 'volumes.list'] } });
    const s1 = await spawned(s, { mandate: { tools: ['test.*'] } });
    const inside = await propose(s1, 'test.slowWrite', { n: 6 }, 10);
    assert.equal(inside.body.status, 'executed', JSON.stringify(inside.body));
    // Inside what the child asked for, outside the parent's: a human decides.
    const outside = await propose(s1, 'test.flakyWrite', { n: 7 });
    assert.equal(outside.status, 202, JSON.stringify(outside.body));
    await assertNotExecuted(f.h, s1, 2);
    assert.deepEqual((await startedSpawn(s, s1)).mandate, { tools: ['test.slowWrite', 'test.slowWriteActivity'] });
    const refused = await spawn(s, { agentId: 'wide', mandate: { tools: ['volumes.delete', 'services.*'] } });
    assert.equal(refused.status, 200, JSON.stringify(refused.body));
    assert.equal(refused.body.status, 'denied');
    assert.deepEqual(refused.body.reasons.map((r: { rule: string }) => r.rule), ['child.mandate']);
    assert.match(refused.body.reasons[0].message, /shares no tool or resource with the parent session's \(tools `test\.slow\*`, `volumes\.list`\)/);
    for (const id of [s, s1]) assert.equal((await f.call('POST', `/v1/sessions/${id}/halt`, { token, body: { reason: 'done' } })).status, 202);
    await assertAuditVerifies(f.h);
  });
});
