/**
 * Red team: a forbidden sequence finished by a session tree (patch `sequences-across-tree`). A
 * sub-agent started with a copy of its parent's progress, and after the spawn each session
 * advanced only its own: the agent did step 1 in one session of its tree and step 2 in another
 * — the parent then a child, a child then the parent, one sibling then the other, and a
 * three-step sequence begun by the parent before the spawn, continued by the child and finished
 * by the parent. Each completed a sequence no single session saw. The tree's root now keeps one
 * progress for the whole tree, and each of these is denied (`tree.sequence`) with nothing run.
 * The real session workflow on the Temporal dev server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { SessionHandle } from '../../client';
import { treeStepUpdate } from '../../workflows/contract';
import { testPolicy, type Harness, createHarness } from '../workflows/harness';

let h: Harness;
let w: Worker;
let run: Promise<void>;
before(async () => {
  h = await createHarness('redteam_tree_sequences');
  const policy = testPolicy({
    transitions: [
      { id: 'list-then-write', from: 'volumes.list', to: 'test.slowWrite', reason: 'listing then writing is how the incident began' },
      { id: 'config-write-flaky', sequence: ['staging.writeConfig', 'test.slowWrite', 'test.flakyWrite'], within: { minutes: 60 } },
    ],
  });
  // Short runs: a root continues as new after a few calls, and its tree's progress must go with it.
  w = await h.worker({ policy, sessionHistoryLimit: 40, workerOptions: { shutdownGraceTime: '10s' } });
  run = w.run();
});
after(async () => {
  w?.shutdown();
  await run;
  await h?.close();
});

const INTENT = 'tidy the staging volumes';
const LIST = { tool: 'volumes.list', args: {}, reasoning: 'what is there' };
const WRITE = (n: number) => ({ tool: 'test.slowWrite', args: { n }, reasoning: 'one staging row' });
const FLAKY = (n: number) => ({ tool: 'test.flakyWrite', args: { n }, reasoning: 'one more staging row' });
const CONFIG = { tool: 'staging.writeConfig', args: { key: 'tidy.enabled', value: 'true' }, reasoning: 'turn it on' };

async function tree(agentId: string): Promise<{ parent: SessionHandle; child: () => Promise<SessionHandle> }> {
  const parent = await h.gh.startSession({ agentId, owner: 'eng-007', intent: INTENT });
  let n = 0;
  return { parent, child: () => parent.spawnChild({ agentId: `helper-${++n}`, intent: INTENT }) };
}

async function writesOf(...sessionIds: string[]): Promise<number> {
  const { rows } = await h.production.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM test_writes WHERE split_part(idempotency_key, \':\', 1) = ANY($1)', [sessionIds]);
  return rows[0]!.n;
}

function assertTreeDenied(r: { status: string; decision: { reasons: readonly { rule: string; message: string }[] } }, rule: string): void {
  assert.equal(r.status, 'denied', JSON.stringify(r.decision.reasons));
  assert.deepEqual(r.decision.reasons.map((x) => x.rule), ['tree.sequence']);
  assert.match(r.decision.reasons[0]!.message, new RegExp(`^\`${rule}\``));
}

describe('a forbidden sequence across a session tree', () => {
  it('the parent lists after the spawn, its child writes: denied', async () => {
    const { parent, child } = await tree('tree-parent-first');
    const c = await child();
    assert.equal((await parent.propose(LIST)).status, 'executed');
    assertTreeDenied(await c.propose(WRITE(1)), 'list-then-write');
    assert.equal(await writesOf(c.sessionId), 0);
  });

  it('a child lists, the parent writes: denied', async () => {
    const { parent, child } = await tree('tree-child-first');
    const c = await child();
    assert.equal((await c.propose(LIST)).status, 'executed');
    assertTreeDenied(await parent.propose(WRITE(2)), 'list-then-write');
    assert.equal(await writesOf(parent.sessionId), 0);
  });

  it('one sibling lists, the other writes; a grandchild is in the same tree: denied', async () => {
    const { child } = await tree('tree-siblings');
    const a = await child();
    const b = await child();
    const grandchild = await b.spawnChild({ agentId: 'helper-9', intent: INTENT });
    assert.equal((await a.propose(LIST)).status, 'executed');
    assertTreeDenied(await b.propose(WRITE(3)), 'list-then-write');
    assertTreeDenied(await grandchild.propose(WRITE(4)), 'list-then-write');
    assert.equal(await writesOf(b.sessionId, grandchild.sessionId), 0);
  });

  it('three steps: the parent before the spawn, the child, then the parent again: denied', async () => {
    const { parent, child } = await tree('tree-three-steps');
    assert.equal((await parent.propose(CONFIG)).status, 'executed');
    const c = await child();
    assert.equal((await c.propose(WRITE(5))).status, 'executed');
    assertTreeDenied(await parent.propose(FLAKY(6)), 'config-write-flaky');
    assert.equal(await writesOf(parent.sessionId), 0);
  });

  it('the root continues as new after its child listed: the tree\'s progress goes with it', async () => {
    const { parent, child } = await tree('tree-runs');
    const c = await child();
    assert.equal((await c.propose(LIST)).status, 'executed');
    const first = (await parent.workflow.describe()).runId;
    for (let i = 0; i < 8 && (await parent.workflow.describe()).runId === first; i++) assert.equal((await parent.propose(CONFIG)).status, 'executed');
    assert.notEqual((await parent.workflow.describe()).runId, first, 'the root continued as new');
    assertTreeDenied(await parent.propose(WRITE(10)), 'list-then-write');
    assert.equal(await writesOf(parent.sessionId), 0);
  });

  it('a `treeStep` sent over the wire for a session outside the tree, or to a sub-agent, is refused unrecorded', async () => {
    const { parent, child } = await tree('tree-forger');
    const c = await child();
    const send = (to: SessionHandle, sessionId: string) => to.workflow.executeUpdate(treeStepUpdate, { args: [{ stepId: `tree:${sessionId}:p1`, sessionId, tool: 'volumes.list', at: Date.now() }] });
    for (const [to, sessionId] of [[parent, 'someone-else.1'], [parent, parent.sessionId], [c, `${c.sessionId}.1`]] as const) {
      await assert.rejects(send(to, sessionId), (err: unknown) => {
        assert.ok(err instanceof WorkflowUpdateFailedError);
        assert.match(String((err.cause as Error | undefined)?.message), /is not the root of/);
        return true;
      });
    }
    // Nothing was counted: the parent's write after them runs.
    assert.equal((await parent.propose(WRITE(12))).status, 'executed');
  });

  it('a step sent ahead under a child\'s next step id does not answer the child\'s call', async () => {
    const { parent, child } = await tree('tree-ahead');
    const c = await child();
    assert.equal((await parent.propose(LIST)).status, 'executed');
    // Over the wire, under the update id the child's first call will use: a harmless tool, allowed and counted nowhere.
    const stepId = `tree:${c.sessionId}:p1`;
    const ahead = await parent.workflow.executeUpdate(treeStepUpdate, { args: [{ stepId, sessionId: c.sessionId, tool: 'staging.writeConfig', at: Date.now() }], updateId: stepId });
    assert.equal(ahead.verdict, 'allow');
    // Temporal answers the child's step with that first outcome: it is not the answer to the child's request.
    const r = await c.propose(WRITE(13));
    assert.equal(r.status, 'denied');
    assert.deepEqual(r.decision.reasons.map((x) => x.rule), ['tree.conflict']);
    assert.equal(await writesOf(c.sessionId), 0);
  });

  it('a tree whose sessions finish no sequence runs every call; a session without children asks nothing', async () => {
    const { parent, child } = await tree('tree-clean');
    const alone = await h.gh.startSession({ agentId: 'tree-alone', owner: 'eng-007', intent: INTENT });
    assert.equal((await alone.propose(WRITE(7))).status, 'executed');
    const c = await child();
    assert.equal((await c.propose(WRITE(8))).status, 'executed');
    assert.equal((await parent.propose(WRITE(9))).status, 'executed');
    assert.equal((await c.propose(LIST)).status, 'executed');
    const history = await alone.workflow.fetchHistory();
    const asked = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'askTreeRoot');
    assert.equal(asked.length, 0);
  });
});
