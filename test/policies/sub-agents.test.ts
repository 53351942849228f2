/**
 * The spawn decisions of policies/sub-agents.ts pinned exactly: who may start a sub-agent, the
 * intent threshold at its edge with its message word for word, and the share that leaves the parent.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { childStart, spawnAdmission, spawnDecision } from '../../policies';
import { Driver, call, policyOf } from './fixtures';

const p = policyOf({ budget: { actions: 20, writes: 8, critical: 4 }, costCap: { tokens: 1000 }, transitions: [{ from: 'volumes.list', to: 'volumes.unmount' }] });

describe('spawnAdmission', () => {
  it('refuses a halted parent, naming it', () => {
    assert.deepEqual(spawnAdmission(p, { sessionId: 'sess-7', halted: true, mode: 'normal' }), {
      verdict: 'deny',
      tier: 'blocked',
      reasons: [{ rule: 'session.halted', message: 'session `sess-7` was halted' }],
      policyHash: p.hash,
    });
    // halted wins over the mode
    assert.equal(spawnAdmission(p, { sessionId: 's', halted: true, mode: 'read-only' })?.reasons[0]?.rule, 'session.halted');
  });

  it('refuses every mode but normal, naming it', () => {
    for (const mode of ['read-only', 'review', 'closed'] as const) {
      assert.deepEqual(spawnAdmission(p, { sessionId: 's', halted: false, mode }), {
        verdict: 'deny',
        tier: 'blocked',
        reasons: [{ rule: 'session.mode', message: `a session in \`${mode}\` mode may not start sub-agents` }],
        policyHash: p.hash,
      });
    }
  });

  it('lets a normal, running parent ask', () => {
    assert.equal(spawnAdmission(p, { sessionId: 's', halted: false, mode: 'normal' }), undefined);
  });
});

describe('spawnDecision', () => {
  it('allows at and above the review threshold', () => {
    assert.equal(p.intent.reviewBelow, 0.55);
    for (const score of [0.55, 0.56, 1]) {
      assert.deepEqual(spawnDecision(p, score), { verdict: 'allow', tier: 'autonomous', reasons: [], policyHash: p.hash }, String(score));
    }
  });

  it('below it asks the default approvers, saying the score and the threshold', () => {
    assert.deepEqual(spawnDecision(p, 0.5449), {
      verdict: 'approve',
      tier: 'approval',
      reasons: [{ rule: 'intent.child', message: "sub-agent intent scores 0.54 against the parent's, below 0.55" }],
      policyHash: p.hash,
      approval: { groups: ['on-call'], approversRequired: 1, escalateAfterMs: [], timeoutMs: 900_000, channel: '#gatehouse-approvals', fourEyes: true, unlocksTransition: false },
    });
    assert.equal(spawnDecision(p, 0)?.reasons[0]?.message, "sub-agent intent scores 0.00 against the parent's, below 0.55");
  });

  it('follows the policy threshold', () => {
    const strict = policyOf({ intent: { reviewBelow: 0.9 } });
    assert.equal(spawnDecision(strict, 0.89).verdict, 'approve');
    assert.equal(spawnDecision(strict, 0.9).verdict, 'allow');
  });
});

describe('childStart', () => {
  it('gives the child its share and lowers every parent cap by it, the rest of the parent unchanged', () => {
    const parent = new Driver(p);
    parent.run(call('volumes.list', {}, { tokenCost: 200 }));
    const start = childStart(p, parent.state, parent.now);
    assert.deepEqual(start.share, { actions: 4, writes: 2, critical: 1, tokens: 200 });
    assert.deepEqual(start.inherited, { step: 1, progress: parent.state.transitions });
    assert.deepEqual(start.parentState, { ...parent.state, limits: { actions: 16, writes: 6, critical: 3, tokens: 800 } });
    assert.deepEqual(parent.state.limits, { actions: 20, writes: 8, critical: 4, tokens: 1000 });
  });

  it('inherits nothing when the policy says not to', () => {
    const q = policyOf({ subAgents: { inheritTransitions: false, budgetShare: 0.5 }, budget: { actions: 10, writes: 4, critical: 2 }, costCap: { tokens: 100 } });
    const start = childStart(q, new Driver(q).state, new Driver(q).now);
    assert.equal(start.inherited, undefined);
    assert.deepEqual(start.share, { actions: 5, writes: 2, critical: 1, tokens: 50 });
    assert.deepEqual(start.parentState.limits, { actions: 5, writes: 2, critical: 1, tokens: 50 });
  });
});
