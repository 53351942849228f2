/**
 * The spawn decisions of policies/sub-agents.ts pinned exactly: who may start a sub-agent, the
 * intent threshold at its edge with its message word for word, and the share that leaves the parent.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { childStart, rateMax, spawnAdmission, spawnDecision } from '../../policies';
import { Driver, T0, TOOLS, call, policyOf, rules } from './fixtures';

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

describe('rate limits shared in a session tree (rates-shared-in-tree)', () => {
  const rated = policyOf({ rateLimits: { perTool: { max: 10, perSeconds: 60 }, perSession: { max: 12, perSeconds: 60 } }, subAgents: { budgetShare: 0.25 } });

  it('rateMax: a child takes its share rounded down, its parent keeps the rest; shares are clamped to 0..1', () => {
    assert.equal(rateMax(10, undefined), 10);
    assert.equal(rateMax(10, [{ share: 0.25, took: true }]), 2);
    assert.equal(rateMax(10, [{ share: 0.25, took: false }]), 8);
    assert.equal(rateMax(10, [{ share: 0.25, took: false }, { share: 0.25, took: false }, { share: 0.25, took: true }]), 1);
    assert.equal(rateMax(3, [{ share: 0.25, took: true }]), 0, 'a share below one call is none');
    assert.equal(rateMax(10, [{ share: 7, took: true }]), 10);
    assert.equal(rateMax(10, [{ share: -1, took: false }]), 10);
  });

  it('childStart: the child starts with its splits and the parent\'s windows; the parent records what it kept', () => {
    const parent = new Driver(rated);
    for (let i = 0; i < 3; i++) parent.run(call('volumes.list'));
    const start = childStart(rated, parent.state, parent.now, true);
    assert.deepEqual(start.rates, { splits: [{ share: 0.25, took: true }], windows: parent.state.rate });
    assert.deepEqual(start.parentState.rateSplits, [{ share: 0.25, took: false }]);
    assert.equal(childStart(rated, parent.state, parent.now).rates, undefined, 'without the patch: nothing shared');
    assert.equal(childStart(rated, parent.state, parent.now).parentState.rateSplits, undefined);
    // The child counts its parent's three calls against its shares (2 of 10 per tool, 3 of 12 per session): it waits for the window.
    const child = new Driver(rated, { startedAt: parent.now, inheritedRates: start.rates! });
    assert.deepEqual(child.peek(call('volumes.list')).reasons.map((r) => r.message), [
      "the session passed its rate limit of 3 proposals per 60 seconds (its share of the session tree's 12)",
      "`volumes.list` passed its rate limit of 2 calls per 60 seconds (its share of the session tree's 10)",
    ]);
    assert.deepEqual(rules(child.peek(call('billing.query'))), ['rate.session']);
    child.tick(61_000);
    assert.equal(child.peek(call('volumes.list')).verdict, 'allow');
  });

  it('a parent that keeps spawning records a handful of splits: once a share rounds to nothing, none more', () => {
    let state = new Driver(rated).state;
    for (let i = 0; i < 200; i++) state = childStart(rated, state, T0, true).parentState;
    assert.ok((state.rateSplits?.length ?? 0) <= 8, String(state.rateSplits?.length));
    assert.equal(childStart(rated, state, T0, true).rates?.splits.length, (state.rateSplits?.length ?? 0) + 1);
    assert.equal(rateMax(12, childStart(rated, state, T0, true).rates!.splits), 0, 'the last child has no share left');
  });

  it('once a share rounds to nothing, a child takes nothing, also of a larger limit its own catalog brings', () => {
    const doc = { rateLimits: { perTool: { max: 3, perSeconds: 600 } }, tools: { 'billing.query': { rateLimit: { max: 40, perSeconds: 600 } } }, subAgents: { budgetShare: 0.25 } };
    // The parent started before `billing.query` was listed (an upstream tool, say); its children compile with it.
    const parentPolicy = policyOf(doc, TOOLS.filter((t) => t.name !== 'billing.query'));
    const childPolicy = policyOf(doc, TOOLS);
    let parent = new Driver(parentPolicy).state;
    let total = 0;
    for (let n = 0; n < 5; n++) {
      const start = childStart(parentPolicy, parent, T0, true);
      parent = start.parentState;
      const child = new Driver(childPolicy, { startedAt: T0, inheritedRates: start.rates! });
      while (child.run(call('billing.query', { customerId: 'c1', period: '2026-01' })).verdict === 'allow') total++;
    }
    assert.equal(total, 0);
    assert.equal(parent.rateSplits, undefined, 'nothing the parent kept changed a limit');
  });

  it('property: however sessions spawn and call inside one window, the tree never passes the policy\'s limits', () => {
    const op = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant('spawn' as const), from: fc.nat() }), weight: 1 },
      { arbitrary: fc.record({ kind: fc.constant('call' as const), from: fc.nat(), tool: fc.constantFrom('volumes.list', 'billing.query') }), weight: 4 },
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 120, size: 'max' }), (ops) => {
        const tree = [new Driver(rated)];
        const allowed = new Map<string, number>();
        for (const o of ops) {
          const d = tree[o.from % tree.length]!;
          if (o.kind === 'spawn') {
            const start = childStart(rated, d.state, d.now, true);
            d.state = start.parentState;
            tree.push(new Driver(rated, { startedAt: d.now, inheritedRates: start.rates! }));
          } else {
            if (d.run(call(o.tool)).verdict === 'allow') allowed.set(o.tool, (allowed.get(o.tool) ?? 0) + 1);
          }
        }
        for (const [tool, n] of allowed) assert.ok(n <= 10, `${tool}: ${n} calls in one window`);
        assert.ok([...allowed.values()].reduce((a, b) => a + b, 0) <= 12, 'the session rate of the tree');
      }),
      { numRuns: 300 },
    );
  });
});
