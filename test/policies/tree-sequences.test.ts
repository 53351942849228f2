/**
 * policies/tree-sequences.ts pinned: a session tree's shared sequence progress — what completes a
 * sequence there (with its windows in the tree's steps and minutes), what an unlock and a shadow
 * rule change, that a denied step counts nothing and an allowed one counts at once, and what the
 * root's update accepts. Also `rootSessionOf`, which names the root a sub-agent asks.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rootSessionOf } from '../../policies/agent-id';
import { takesTreeSteps, treeAnswerFor, treeProgressOf, treeRequestDigest, treeStep, treeStepProblem, TREE_STEP_SKEW_MS, type TreeProgress, type TreeStepRequest } from '../../policies/tree-sequences';
import { initialSessionState } from '../../policies';
import { MINUTE, T0, policyOf } from './fixtures';

const doc = {
  transitions: [
    { id: 'list-unmount', from: 'volumes.list', to: 'volumes.unmount', reason: 'the volume incident' },
    { id: 'three', sequence: ['volumes.list', 'volumes.unmount', 'volumes.delete'], within: { minutes: 60 } },
    { id: 'short', from: 'secrets.rotate', to: 'services.restart', within: { steps: 1 } },
    { id: 'watched', from: 'services.scale', to: 'env.modifyProduction', mode: 'shadow' },
  ],
};
const p = policyOf(doc);
const start = (): TreeProgress => treeProgressOf(initialSessionState(p, { startedAt: T0 }));
let n = 0;
/** A step of `sessionId` calling `tool` at `at`, under a fresh step id. */
const req = (sessionId: string, tool: string, at = T0, extra: Partial<TreeStepRequest> = {}): TreeStepRequest => ({ stepId: `tree:${sessionId}:p${++n}`, sessionId, tool, at, ...extra });

/** Folds `tools` as allowed steps of sub-agent `S.1`, failing if any is denied. */
function walk(tree: TreeProgress, tools: readonly string[], at = T0): TreeProgress {
  let t = tree;
  for (const tool of tools) {
    const r = treeStep(p, t, req('S.1', tool, at), 'S', at);
    assert.equal(r.result.verdict, 'allow', `${tool}: ${JSON.stringify(r.result.reasons)}`);
    t = r.tree;
  }
  return t;
}

/** The tree's sequence progress alone (the kept answers aside). */
const progress = (t: TreeProgress) => ({ step: t.step, transitions: t.transitions });

describe('treeStep', () => {
  it('denies the step that completes a sequence begun anywhere in the tree, naming the rule and the tree; nothing is counted', () => {
    const tree = walk(start(), ['volumes.list']);
    const asked = req('S.2', 'volumes.unmount', T0 + MINUTE);
    const r = treeStep(p, tree, asked, 'S', T0 + MINUTE);
    assert.deepEqual(r.result, {
      verdict: 'deny',
      reasons: [
        { rule: 'tree.sequence', message: '`list-unmount`: `volumes.list` then `volumes.unmount` is a forbidden transition: the volume incident, across the session tree of `S` (a parent and its sub-agents)' },
      ],
      stepId: asked.stepId,
      requestDigest: treeRequestDigest(asked),
    });
    assert.deepEqual(progress(r.tree), progress(tree));
  });

  it('counts an allowed step at once: the tree\'s step moves and a later step sees it', () => {
    const tree = walk(start(), ['volumes.list']);
    assert.equal(tree.step, 1);
    assert.deepEqual(tree.transitions['list-unmount'], [{ step: 1, at: T0 }]);
    const r = treeStep(p, tree, req('S', 'volumes.unmount', T0, { unlockedRules: ['list-unmount'] }), 'S', T0);
    assert.equal(r.result.verdict, 'allow');
    assert.equal(r.tree.step, 2);
    // The three-step rule: list, unmount (unlocked above), then delete is denied.
    const three = treeStep(p, r.tree, req('S.1.1', 'volumes.delete', T0 + 59 * MINUTE), 'S', T0 + 59 * MINUTE);
    assert.deepEqual(three.result.reasons.map((x) => x.message.split(':')[0]), ['`three`']);
  });

  it('an unlock lifts only the rules a person unlocked', () => {
    const both = policyOf({ transitions: [{ id: 'r1', from: 'volumes.list', to: 'volumes.unmount' }, { id: 'r2', from: 'secrets.rotate', to: 'volumes.unmount' }] });
    let tree = treeProgressOf(initialSessionState(both, { startedAt: T0 }));
    for (const tool of ['volumes.list', 'secrets.rotate']) tree = treeStep(both, tree, req('S.1', tool), 'S', T0).tree;
    const r = treeStep(both, tree, req('S.2', 'volumes.unmount', T0, { unlockedRules: ['r1'] }), 'S', T0);
    assert.deepEqual(r.result.reasons.map((x) => x.message.split(':')[0]), ['`r2`']);
    assert.equal(treeStep(both, tree, req('S.2', 'volumes.unmount', T0, { unlockedRules: ['r1', 'r2'] }), 'S', T0).result.verdict, 'allow');
  });

  it('keeps a rule\'s windows: minutes by the root\'s clock, steps counted over the whole tree', () => {
    const listed = walk(start(), ['volumes.list']);
    const unmounted = treeStep(p, listed, req('S.1', 'volumes.unmount', T0, { unlockedRules: ['list-unmount'] }), 'S', T0).tree;
    const late = (ms: number) => treeStep(p, unmounted, req('S.1', 'volumes.delete', T0 + ms), 'S', T0 + ms).result.verdict;
    assert.equal(late(60 * MINUTE), 'deny');
    assert.equal(late(60 * MINUTE + 1), 'allow');
    const rotated = walk(start(), ['secrets.rotate']);
    assert.equal(treeStep(p, rotated, req('S.2', 'services.restart'), 'S', T0).result.verdict, 'deny');
    // One step of another session in between: past `within: { steps: 1 }`.
    const later = walk(rotated, ['volumes.list']);
    assert.equal(treeStep(p, later, req('S.2', 'services.restart'), 'S', T0).result.verdict, 'allow');
  });

  it('a shadow rule denies nothing; a tool in no sequence, or a policy whose sub-agents do not inherit transitions, moves nothing', () => {
    const scaled = walk(start(), ['services.scale']);
    assert.equal(treeStep(p, scaled, req('S.1', 'env.modifyProduction'), 'S', T0).result.verdict, 'allow');
    const tree = start();
    const other = treeStep(p, tree, req('S.1', 'staging.writeConfig'), 'S', T0);
    assert.equal(other.result.verdict, 'allow');
    assert.deepEqual(progress(other.tree), progress(tree));
    assert.equal(takesTreeSteps(p, 'staging.writeConfig'), false);
    assert.equal(takesTreeSteps(p, 'volumes.list'), true);
    const apart = policyOf({ ...doc, subAgents: { budgetShare: 0.25, inheritTransitions: false } });
    assert.equal(takesTreeSteps(apart, 'volumes.list'), false);
    const listed = walk(start(), ['volumes.list']);
    const r = treeStep(apart, listed, req('S.1', 'volumes.unmount'), 'S', T0);
    assert.equal(r.result.verdict, 'allow');
    assert.deepEqual(progress(r.tree), progress(listed));
  });

  it('a tool the root\'s catalog lacks takes its places by name: it is counted and denied like any other', () => {
    const named = policyOf({ transitions: [{ id: 'fs', from: 'fs.list_*', to: 'fs.unmount' }] });
    let tree = treeProgressOf(initialSessionState(named, { startedAt: T0 }));
    tree = treeStep(named, tree, req('S.1', 'fs.list_volumes'), 'S', T0).tree;
    assert.equal(tree.step, 1);
    assert.deepEqual(treeStep(named, tree, req('S.2', 'fs.unmount'), 'S', T0).result.reasons.map((x) => x.rule), ['tree.sequence']);
  });

  it('a step is decided once: a retry gets its answer, another request under its id is denied, one far from the root\'s clock is denied', () => {
    const tree = start();
    const sent = req('S.1', 'volumes.list');
    const first = treeStep(p, tree, sent, 'S', T0);
    // Sent ahead under the id of a later call, for another tool (or the same one at another time): not the call's answer.
    const forged = { ...sent, tool: 'volumes.unmount' };
    assert.deepEqual(treeStep(p, first.tree, forged, 'S', T0).result.reasons.map((x) => x.rule), ['tree.conflict']);
    assert.deepEqual(treeStep(p, first.tree, { ...sent, at: T0 + 1 }, 'S', T0).result.reasons.map((x) => x.rule), ['tree.conflict']);
    const again = treeStep(p, first.tree, sent, 'S', T0 + 5);
    assert.deepEqual(again.result, first.result);
    assert.equal(again.tree.step, 1, 'a retry counts once');
    const stale = req('S.1', 'volumes.list', T0 - TREE_STEP_SKEW_MS - 1);
    assert.deepEqual(treeStep(p, tree, stale, 'S', T0).result.reasons.map((x) => x.rule), ['tree.conflict']);
  });

  it('treeAnswerFor takes only the answer to its own request', () => {
    const sent = req('S.1', 'volumes.list');
    const { result } = treeStep(p, start(), sent, 'S', T0);
    assert.equal(treeAnswerFor(sent, result), result);
    const other = treeAnswerFor({ ...sent, tool: 'volumes.unmount' }, result);
    assert.equal(other.verdict, 'deny');
    assert.deepEqual(other.reasons.map((x) => x.rule), ['tree.conflict']);
  });
});

describe('treeStepProblem', () => {
  it('accepts a step and names what is wrong with anything else', () => {
    const ok = { stepId: 'tree:S.1:p1', sessionId: 'S.1', tool: 'volumes.list', at: T0 };
    assert.equal(treeStepProblem(ok), undefined);
    assert.equal(treeStepProblem({ ...ok, unlockedRules: ['list-unmount'] }), undefined);
    assert.equal(treeStepProblem(null), 'expected a tree step');
    assert.equal(treeStepProblem({ ...ok, sessionId: undefined }), 'expected `sessionId` to be a non-empty string');
    assert.equal(treeStepProblem({ ...ok, tool: 'x'.repeat(513) }), 'expected `tool` to be a non-empty string');
    assert.equal(treeStepProblem({ ...ok, at: -1 }), 'expected `at` to be a time in milliseconds');
    assert.equal(treeStepProblem({ ...ok, unlockedRules: 'all' }), 'expected `unlockedRules` to be at most 64 rule ids');
  });
});

describe('rootSessionOf', () => {
  it('strips every sub-agent suffix, and only those', () => {
    assert.equal(rootSessionOf('S'), 'S');
    assert.equal(rootSessionOf('S.1'), 'S');
    assert.equal(rootSessionOf('S.12.3'), 'S');
    assert.equal(rootSessionOf('deploy.v2.1'), 'deploy.v2');
    assert.equal(rootSessionOf('a.b'), 'a.b');
  });
});
