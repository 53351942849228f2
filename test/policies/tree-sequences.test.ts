/**
 * policies/tree-sequences.ts pinned: a session tree's shared sequence progress — what completes a
 * sequence there (with its windows in the tree's steps and minutes), what an unlock and a shadow
 * rule change, that a denied step counts nothing and an allowed one counts at once, and what the
 * root's update accepts. Also `rootSessionOf`, which names the root a sub-agent asks.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rootSessionOf } from '../../policies/agent-id';
import { takesTreeSteps, treeProgressOf, treeStep, treeStepProblem, type TreeProgress } from '../../policies/tree-sequences';
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

/** Folds `tools` as allowed steps of sub-agent `S.1`, failing if any is denied. */
function walk(tree: TreeProgress, tools: readonly string[], at = T0): TreeProgress {
  let t = tree;
  for (const tool of tools) {
    const r = treeStep(p, t, { sessionId: 'S.1', tool }, 'S', at);
    assert.equal(r.result.verdict, 'allow', `${tool}: ${JSON.stringify(r.result.reasons)}`);
    t = r.tree;
  }
  return t;
}

describe('treeStep', () => {
  it('denies the step that completes a sequence begun anywhere in the tree, naming the rule and the tree; nothing is counted', () => {
    const tree = walk(start(), ['volumes.list']);
    const r = treeStep(p, tree, { sessionId: 'S.2', tool: 'volumes.unmount' }, 'S', T0 + MINUTE);
    assert.deepEqual(r.result, {
      verdict: 'deny',
      reasons: [
        { rule: 'tree.sequence', message: '`list-unmount`: `volumes.list` then `volumes.unmount` is a forbidden transition: the volume incident, across the session tree of `S` (a parent and its sub-agents)' },
      ],
    });
    assert.equal(r.tree, tree);
  });

  it('counts an allowed step at once: the tree\'s step moves and a later step sees it', () => {
    const tree = walk(start(), ['volumes.list']);
    assert.equal(tree.step, 1);
    assert.deepEqual(tree.transitions['list-unmount'], [{ step: 1, at: T0 }]);
    const r = treeStep(p, tree, { sessionId: 'S', tool: 'volumes.unmount', unlocked: true }, 'S', T0);
    assert.equal(r.result.verdict, 'allow');
    assert.equal(r.tree.step, 2);
    // The three-step rule: list, unmount (unlocked above), then delete is denied.
    const three = treeStep(p, r.tree, { sessionId: 'S.1.1', tool: 'volumes.delete' }, 'S', T0 + 59 * MINUTE);
    assert.deepEqual(three.result.reasons.map((x) => x.message.split(':')[0]), ['`three`']);
  });

  it('keeps a rule\'s windows: minutes by the root\'s clock, steps counted over the whole tree', () => {
    const listed = walk(start(), ['volumes.list']);
    const unlocked = treeStep(p, listed, { sessionId: 'S.1', tool: 'volumes.unmount', unlocked: true }, 'S', T0).tree;
    assert.equal(treeStep(p, unlocked, { sessionId: 'S.1', tool: 'volumes.delete' }, 'S', T0 + 60 * MINUTE).result.verdict, 'deny');
    assert.equal(treeStep(p, unlocked, { sessionId: 'S.1', tool: 'volumes.delete' }, 'S', T0 + 60 * MINUTE + 1).result.verdict, 'allow');
    const rotated = walk(start(), ['secrets.rotate']);
    assert.equal(treeStep(p, rotated, { sessionId: 'S.2', tool: 'services.restart' }, 'S', T0).result.verdict, 'deny');
    // One step of another session in between: past `within: { steps: 1 }`.
    const later = walk(rotated, ['volumes.list']);
    assert.equal(treeStep(p, later, { sessionId: 'S.2', tool: 'services.restart' }, 'S', T0).result.verdict, 'allow');
  });

  it('a shadow rule denies nothing; a tool in no sequence, or a policy whose sub-agents do not inherit transitions, changes nothing', () => {
    const scaled = walk(start(), ['services.scale']);
    assert.equal(treeStep(p, scaled, { sessionId: 'S.1', tool: 'env.modifyProduction' }, 'S', T0).result.verdict, 'allow');
    const tree = start();
    const other = treeStep(p, tree, { sessionId: 'S.1', tool: 'staging.writeConfig' }, 'S', T0);
    assert.deepEqual(other, { tree, result: { verdict: 'allow', reasons: [] } });
    assert.equal(takesTreeSteps(p, 'staging.writeConfig'), false);
    assert.equal(takesTreeSteps(p, 'volumes.list'), true);
    const apart = policyOf({ ...doc, subAgents: { budgetShare: 0.25, inheritTransitions: false } });
    assert.equal(takesTreeSteps(apart, 'volumes.list'), false);
    const listed = walk(start(), ['volumes.list']);
    assert.deepEqual(treeStep(apart, listed, { sessionId: 'S.1', tool: 'volumes.unmount' }, 'S', T0), { tree: listed, result: { verdict: 'allow', reasons: [] } });
  });
});

describe('treeStepProblem', () => {
  it('accepts a step and names what is wrong with anything else', () => {
    assert.equal(treeStepProblem({ sessionId: 'S.1', tool: 'volumes.list' }), undefined);
    assert.equal(treeStepProblem({ sessionId: 'S.1', tool: 'volumes.list', unlocked: true }), undefined);
    assert.equal(treeStepProblem(null), 'expected a tree step');
    assert.equal(treeStepProblem({ tool: 'volumes.list' }), 'expected `sessionId` to be a non-empty string');
    assert.equal(treeStepProblem({ sessionId: 'S.1', tool: 'x'.repeat(513) }), 'expected `tool` to be a non-empty string');
    assert.equal(treeStepProblem({ sessionId: 'S.1', tool: 'volumes.list', unlocked: 'yes' }), 'expected `unlocked` to be true or false');
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
