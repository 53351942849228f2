/**
 * Red team: sub-sessions exist only by their parent, and an agent's identity stays with its
 * credential (issue 23, attacks 3, 5 and 10). The attacker holds its own credential, the gateway
 * and a Temporal connection (with a worker of its own on its own task queue).
 *
 * - A workflow of the attacker's, calling itself `agentSession` under the id `session-<x>`,
 *   starts a Gatehouse session as its child with the identity, policy and budget it chose (a
 *   live agent's, a revoked one's): refused, no session row, an alert naming `start.parent`.
 * - Sub-agents asking to be `victim-bot` through the gateway are `<attacker>/victim-bot`: the
 *   victim's open-session cap, listing and `pause --agent` are untouched; they count against
 *   the attacker's own cap.
 * - A top-level session squatting `<victim>.1` is refused (gateway 422, worker `start.session-id`),
 *   and the victim's spawn onto the squatted id is denied cleanly: its share kept, audited; the
 *   next spawn takes `<victim>.2`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { Gatehouse, SessionStartRefusedError } from '../../client';
import { SEARCH_ATTRIBUTES, SESSION_WORKFLOW_TYPE, sessionWorkflowId } from '../../workflows/contract';
import { startFixture, type GatewayFixture } from '../gateway/client';
import { testTrust } from '../support/trust';
import { eventually } from '../support/eventually';
import { alertRow, assertAuditVerifies, assertNotExecuted, productionSnapshot } from './attacker';
import type { ForeignParentInput } from './fixtures/foreign-parent';

const trust = testTrust();
const CAP = 3;
// Every test file shares the Temporal namespace, and visibility counts and `pause --agent` reach
// every running session of an agent there: this file's agents are its own.
const run = randomUUID().slice(0, 8);
const MALLORY = `mallory-bot-${run}`;
const VICTIM = `victim-bot-${run}`;
const HEIR = `heir-bot-${run}`;
let f: GatewayFixture;
let attackerToken: string;
let victimToken: string;

before(async () => {
  f = await startFixture('redteam_subsessions', { openSessions: CAP, requestsPerSecond: 50, burst: 100 });
  attackerToken = await trust.credential(MALLORY, 'eng-007');
  victimToken = await trust.credential(VICTIM, 'eng-042');
});
after(async () => {
  await f?.close();
});

async function startSession(token: string, intent = 'list volumes and look up billing records'): Promise<string> {
  const r = await f.call('POST', '/v1/sessions', { token, body: { intent } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.sessionId as string;
}

/** Running sessions Temporal's visibility lists under `GatehouseAgent = agent`. */
async function openOf(agent: string): Promise<number> {
  const query = `WorkflowType = '${SESSION_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND ${SEARCH_ATTRIBUTES.agentId} = '${agent}'`;
  return (await f.h.gh.client.workflow.count(query)).count;
}

const sessionRow = async (sessionId: string) => (await f.h.audit.pool.query('SELECT agent_id FROM sessions WHERE session_id = $1', [sessionId])).rows;

describe('a sub-session exists only by its parent (attack 3)', () => {
  let attackerQueue: string;
  let worker: Worker;
  let running: Promise<void>;
  before(async () => {
    attackerQueue = `${f.h.taskQueue}-mallory`;
    worker = await Worker.create({ connection: f.h.connection, namespace: f.h.namespace, taskQueue: attackerQueue, workflowsPath: require.resolve('./fixtures/foreign-parent') });
    running = worker.run();
  });
  after(async () => {
    worker.shutdown();
    await running;
  });

  /** The attacker's `session-<x>` starts `<x>.1` on Gatehouse's queue with `childInput`; how the child ended. */
  async function foreignChild(childInput: (x: string) => Record<string, unknown>): Promise<{ childId: string; outcome: { failed: boolean; type?: string; message?: string } }> {
    const x = `rt-foreign-${randomUUID()}`;
    const childId = `${x}.1`;
    const input: ForeignParentInput = { taskQueue: f.h.taskQueue, childWorkflowId: sessionWorkflowId(childId), childInput: { sessionId: childId, parentSessionId: x, ...childInput(x) } };
    const outcome = await f.h.gh.client.workflow.execute('agentSession', { taskQueue: attackerQueue, workflowId: sessionWorkflowId(x), args: [input] });
    return { childId, outcome };
  }

  async function assertRefused(childId: string, outcome: { failed: boolean; type?: string; message?: string }, before: Record<string, unknown>): Promise<void> {
    assert.equal(outcome.failed, true);
    assert.equal(outcome.type, 'SessionStartRefusedError');
    assert.match(outcome.message ?? '', /is not a Gatehouse session \(type `agentSession` on task queue `.*-mallory`\)/);
    const alert = await alertRow(f.h, childId, 'start.parent');
    assert.match(alert.message, /^session start refused: parent `session-rt-foreign-/);
    assert.deepEqual(await sessionRow(childId), []);
    assert.deepEqual((await f.h.events(childId)).map((e) => e.kind), []);
    assert.deepEqual(await productionSnapshot(f.h), before);
    await assertNotExecuted(f.h, childId);
    await assertAuditVerifies(f.h);
  }

  it('refuses a child of the attacker\'s own workflow claiming a live agent\'s identity, a chosen policy and budget', async () => {
    const before = await productionSnapshot(f.h);
    const { childId, outcome } = await foreignChild(() => ({
      agentId: VICTIM,
      owner: 'eng-042',
      principal: VICTIM,
      policyRef: 'demo-batch',
      intent: 'delete old billing records',
      budget: { actions: 500, writes: 112, critical: 10, tokens: 1_000_000 },
    }));
    await assertRefused(childId, outcome, before);
  });

  it('refuses the same for a revoked agent: no session starts under its name', async () => {
    await f.revocations.revoke('revoked-bot', 'test-operator', 'leaked');
    const before = await productionSnapshot(f.h);
    const { childId, outcome } = await foreignChild(() => ({ agentId: 'revoked-bot', owner: 'eng-007', principal: 'revoked-bot', policyRef: 'default', intent: 'tidy billing' }));
    await assertRefused(childId, outcome, before);
  });
});

describe('a sub-agent\'s identity derives from its root credential (attack 5)', () => {
  it('a sub-agent asking to be `victim-bot` is `mallory-bot/victim-bot`, counts against mallory\'s cap and never the victim\'s', async () => {
    const before = await productionSnapshot(f.h);
    const victimFirst = await startSession(victimToken);
    const parent = await startSession(attackerToken);
    const children: string[] = [];
    for (let i = 0; i < CAP - 1; i++) {
      // The cap is counted in visibility: each spawn is seen before the next is asked for.
      await eventually(async () => ((await openOf(MALLORY)) === 1 + i ? true : undefined), { what: `${1 + i} open sessions of ${MALLORY}` });
      const r = await f.call('POST', `/v1/sessions/${parent}/children`, { token: attackerToken, body: { agentId: VICTIM, intent: 'list volumes and look up billing records' } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.status, 'started');
      assert.equal(r.body.sessionId, `${parent}.${i + 1}`);
      children.push(r.body.sessionId as string);
    }
    for (const child of children) {
      const view = await f.call('GET', `/v1/sessions/${child}`, { token: attackerToken });
      assert.equal(view.status, 200);
      assert.deepEqual([view.body.agentId, view.body.principal, view.body.owner], [`${MALLORY}/${VICTIM}`, MALLORY, 'eng-007']);
      assert.equal((await eventually(async () => (await sessionRow(child))[0], { what: `the session row of ${child}` })).agent_id, `${MALLORY}/${VICTIM}`);
      // The victim cannot read them: they are not its sessions.
      assert.equal((await f.call('GET', `/v1/sessions/${child}`, { token: victimToken })).status, 403);
    }
    // Mallory's own cap holds with its sub-agents in it; the victim's holds only its own sessions.
    await eventually(async () => ((await openOf(MALLORY)) === CAP ? true : undefined), { what: `${CAP} open sessions of ${MALLORY}` });
    const over = await f.call('POST', `/v1/sessions/${parent}/children`, { token: attackerToken, body: { agentId: VICTIM, intent: 'list volumes' } });
    assert.equal(over.status, 429, JSON.stringify(over.body));
    await eventually(async () => ((await openOf(VICTIM)) === 1 ? true : undefined), { what: `1 open session of ${VICTIM}` });
    const victimMore = [await startSession(victimToken), await startSession(victimToken)];
    // Fleet controls act on the root: pausing the victim reaches the victim's sessions only.
    await eventually(async () => ((await openOf(VICTIM)) === 3 ? true : undefined), { what: `3 open sessions of ${VICTIM}` });
    const paused = await f.h.gh.pause({ agentId: VICTIM }, 'oncall', 'red team');
    assert.deepEqual([...paused].sort(), [victimFirst, ...victimMore].sort());
    const malloryPaused = await f.h.gh.pause({ agentId: MALLORY }, 'oncall', 'red team');
    assert.deepEqual([...malloryPaused].sort(), [parent, ...children].sort());
    for (const id of [parent, ...children]) await assertNotExecuted(f.h, id);
    assert.deepEqual(await productionSnapshot(f.h), before);
    await assertAuditVerifies(f.h);
  });
});

describe('the parent chooses the child\'s id (attack 10)', () => {
  it('refuses a top-level session squatting `<victim>.1`; the victim\'s spawn onto it is denied cleanly, its share kept, audited', async () => {
    const before = await productionSnapshot(f.h);
    // A victim of its own: the one above has its open sessions at the cap.
    const victimToken = await trust.credential(HEIR, 'eng-042');
    const victim = await startSession(victimToken);
    const squat = `${victim}.1`;
    // Through the gateway: refused up front.
    const viaGateway = await f.call('POST', '/v1/sessions', { token: attackerToken, body: { sessionId: squat, intent: 'list volumes' } });
    assert.equal(viaGateway.status, 422, JSON.stringify(viaGateway.body));
    assert.match(JSON.stringify(viaGateway.body), /sub-agent's, chosen by its parent session/);
    // Through Temporal with its own credential: the worker refuses the start, but the run holds the id.
    const gh = await Gatehouse.connect({ address: f.h.address, namespace: f.h.namespace, taskQueue: f.h.taskQueue, token: attackerToken });
    try {
      await assert.rejects(gh.startSession({ sessionId: squat, intent: 'list volumes' }), (err: unknown) => err instanceof SessionStartRefusedError && err.rule === 'start.session-id');
    } finally {
      await gh.close();
    }
    await alertRow(f.h, squat, 'start.session-id');
    assert.deepEqual(await sessionRow(squat), []);

    const left = async () => (await f.call('GET', `/v1/sessions/${victim}`, { token: victimToken })).body.budgetLeft;
    const budgetBefore = await left();
    const spawn = await f.call('POST', `/v1/sessions/${victim}/children`, { token: victimToken, body: { agentId: 'cleanup-1', intent: 'list volumes and look up billing records' } });
    assert.equal(spawn.status, 200, JSON.stringify(spawn.body));
    assert.equal(spawn.body.status, 'denied');
    assert.equal(spawn.body.sessionId, squat);
    assert.deepEqual(spawn.body.reasons.map((r: { rule: string }) => r.rule), ['child.id-taken']);
    assert.deepEqual(await left(), budgetBefore);
    const decided = (await f.h.events(victim)).filter((e) => e.kind === 'decided' && e.tool === 'session.spawnChild');
    assert.deepEqual(decided.map((e) => [e.detail?.status, (e.detail?.reasons as { rule: string }[] | undefined)?.map((r) => r.rule)]), [['denied', ['child.id-taken']]]);

    // The next spawn takes the next id and starts with its share.
    const next = await f.call('POST', `/v1/sessions/${victim}/children`, { token: victimToken, body: { agentId: 'cleanup-1', intent: 'list volumes and look up billing records' } });
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.deepEqual([next.body.status, next.body.sessionId], ['started', `${victim}.2`]);
    const child = await f.call('GET', `/v1/sessions/${victim}.2`, { token: victimToken });
    assert.deepEqual([child.body.agentId, child.body.parentSessionId], [`${HEIR}/cleanup-1`, victim]);
    const started = await eventually(async () => (await f.h.events(`${victim}.2`)).find((e) => e.kind === 'session-started'), { what: 'the child\'s session-started event' });
    // The child's start event names the root credential and agent.
    assert.equal(typeof started.detail?.credentialId, 'string');
    assert.equal(started.detail?.principal, HEIR);
    assert.deepEqual(await productionSnapshot(f.h), before);
    await assertNotExecuted(f.h, squat);
    await assertAuditVerifies(f.h);
  });
});
