/**
 * Session state (`policies/state.ts`) field by field: the fresh state, overrides at their bounds,
 * budget raises, the mode order, window and rate edges, the bounds that keep state small, when a
 * budget closes the session (and flags it once), the intent fold, and the transition automaton's
 * "one call extends one prefix, keep the latest start". Pure and fast.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advance, budgetLeft, budgetUsed, initialSessionState, sessionMode, withBudgetRaised, withIntentScore, type SessionState } from '../../policies';
import { Driver, MINUTE, T0, call, policyOf } from './fixtures';

const roomy = { actions: 1000, writes: 1000, critical: 1000 };
const fold = (p: ReturnType<typeof policyOf>, s: SessionState, tools: readonly string[], at: (i: number) => number, extra = {}) =>
  tools.reduce((st, t, i) => advance(p, st, call(t, {}, extra), 'executed', at(i)), s);

test('the fresh state, exactly; a sequence of three holds two prefixes', () => {
  const p = policyOf({ transitions: [{ id: 'seq', sequence: ['volumes.list', 'services.scale', 'volumes.delete'] }], intent: { mode: 'shadow' } });
  assert.deepEqual(initialSessionState(p, { startedAt: T0 }), {
    version: 1,
    startedAt: T0,
    policyHash: p.hash,
    mode: 'normal',
    readOnly: false,
    review: false,
    closed: false,
    flagged: [],
    limits: { actions: 20, writes: 5, critical: 1, tokens: 1_000_000 },
    step: 0,
    counters: { proposals: 0, executed: 0, denied: 0, failed: 0, expired: 0, tokens: 0 },
    window: [],
    rate: { session: [], tools: {} },
    transitions: { seq: [null, null] },
    intent: { score: null, weight: 0, decay: 0.8, reviewBelow: 0.55, enforce: false },
  });
  assert.equal(initialSessionState(policyOf({}), { startedAt: T0 }).intent.enforce, true);
});

test('overrides: only a finite number ≥ 0 lowers a cap (rounded down); the mandate only when it names something; inherited progress and step', () => {
  const p = policyOf({ transitions: [{ id: 'seq', sequence: ['volumes.list', 'services.scale', 'volumes.delete'] }] });
  const limits = (budget: Record<string, unknown>) => ({ ...initialSessionState(p, { startedAt: T0, budget: budget as never }).limits });
  assert.deepEqual(limits({ actions: Number.NaN, writes: -1, critical: 0, tokens: 2.7 }), { actions: 20, writes: 5, critical: 0, tokens: 2 });
  assert.deepEqual(limits({ actions: Infinity, writes: '3', critical: null, tokens: 1e9 }), { actions: 20, writes: 5, critical: 1, tokens: 1_000_000 });
  const mandate = (m: Record<string, unknown>) => initialSessionState(p, { startedAt: T0, mandate: m as never }).mandate;
  assert.equal(mandate({ tools: [], resources: [] }), undefined);
  assert.equal(mandate({}), undefined);
  assert.deepEqual(mandate({ tools: ['billing.*'] }), { tools: ['billing.*'], resources: [] });
  assert.deepEqual(mandate({ resources: ['config'] }), { tools: [], resources: ['config'] });
  const s = initialSessionState(p, { startedAt: T0, inheritedTransitions: { step: 7, progress: { seq: [{ step: 3, at: T0 }] } } });
  assert.deepEqual([s.step, s.transitions], [7, { seq: [{ step: 3, at: T0 }, null] }]);
});

test('withBudgetRaised: each named cap becomes the larger; the mode stays', () => {
  const p = policyOf({});
  const s = { ...initialSessionState(p, { startedAt: T0 }), readOnly: true, mode: 'read-only' as const };
  const raised = withBudgetRaised(s, { actions: 30, writes: 2, tokens: 2_000_000 });
  assert.deepEqual(raised.limits, { actions: 30, writes: 5, critical: 1, tokens: 2_000_000 });
  assert.deepEqual([raised.mode, raised.readOnly], ['read-only', true]);
  assert.deepEqual(withBudgetRaised(s, { critical: 4 }).limits, { actions: 20, writes: 5, critical: 4, tokens: 1_000_000 });
});

test('sessionMode: closed over review over read-only over normal', () => {
  const s = initialSessionState(policyOf({}), { startedAt: T0 });
  assert.equal(sessionMode({ ...s, closed: true, review: true, readOnly: true }), 'closed');
  assert.equal(sessionMode({ ...s, review: true, readOnly: true }), 'review');
  assert.equal(sessionMode({ ...s, readOnly: true }), 'read-only');
  assert.equal(sessionMode(s), 'normal');
});

test('the budget window: a call stops counting exactly windowMs after it; used past a cap leaves zero, never less', () => {
  const p = policyOf({ budget: roomy });
  const s = advance(p, initialSessionState(p, { startedAt: T0 }), call('volumes.delete', {}, { tokenCost: 3 }), 'executed', T0);
  const windowMs = 30 * MINUTE;
  assert.deepEqual(budgetUsed(p, s, T0 + windowMs - 1), { actions: 1, writes: 1, critical: 1, tokens: 3 });
  assert.deepEqual(budgetUsed(p, s, T0 + windowMs), { actions: 0, writes: 0, critical: 0, tokens: 3 });
  assert.deepEqual(advance(p, s, call('billing.query'), 'executed', T0 + windowMs).window, [{ at: T0 + windowMs, write: false, critical: false }], 'the old entry leaves the state');
  assert.equal(advance(p, s, call('billing.query'), 'executed', T0 + windowMs - 1).window.length, 2);
  const tight = initialSessionState(p, { startedAt: T0, budget: { actions: 1, writes: 1, critical: 1, tokens: 1 } });
  const over = fold(p, tight, ['volumes.delete', 'volumes.delete'], (i) => T0 + i, { tokenCost: 5 });
  assert.deepEqual(budgetLeft(p, over, T0 + 2), { actions: 0, writes: 0, critical: 0, tokens: 0 });
});

test('advance: a malformed or unknown call only counts; token costs that are not a positive number count nothing', () => {
  const p = policyOf({ budget: roomy });
  const s = initialSessionState(p, { startedAt: T0 });
  const junk = advance(p, s, null as never, 'executed', T0);
  assert.deepEqual([junk.counters.proposals, junk.counters.executed, junk.window, junk.step, junk.rate.tools], [1, 1, [], 0, {}]);
  const unknown = advance(p, s, call('db.dropEverything'), 'failed', T0);
  assert.deepEqual([unknown.counters.failed, unknown.window, unknown.step, unknown.rate.tools], [1, [], 0, {}]);
  for (const tokenCost of [-5, Number.NaN, Infinity, '5', 0]) assert.equal(advance(p, s, call('billing.query', {}, { tokenCost } as never), 'executed', T0).counters.tokens, 0, String(tokenCost));
  assert.equal(advance(p, s, call('billing.query', {}, { tokenCost: 5 }), 'expired', T0).counters.tokens, 5, 'a cost counts whatever the outcome');
});

test('rate windows: a time leaves exactly at the window, another tool\'s old times are dropped, at most max kept', () => {
  const p = policyOf({ budget: roomy, rateLimits: { perSession: { max: 2, perSeconds: 10 } }, tools: { 'volumes.list': { rateLimit: { max: 2, perSeconds: 60 } } } });
  const s0 = initialSessionState(p, { startedAt: T0 });
  // Default per-tool window: 60 s (the longest of the rate windows).
  const a = fold(p, s0, ['billing.query', 'billing.query'], (i) => T0 + i * 60_000);
  assert.deepEqual(a.rate.tools, { 'billing.query': [T0 + 60_000] });
  const b = fold(p, s0, ['billing.query', 'billing.query'], (i) => T0 + i * 59_999);
  assert.deepEqual(b.rate.tools, { 'billing.query': [T0, T0 + 59_999] });
  const c = fold(p, s0, ['billing.query', 'volumes.list', 'volumes.list', 'volumes.list'], (i) => T0 + i * 20_000);
  assert.deepEqual(c.rate, { session: [T0 + 40_000, T0 + 60_000], tools: { 'volumes.list': [T0 + 20_000, T0 + 40_000, T0 + 60_000] } }, 'billing.query left the window; a tool keeps up to the largest max (100), the session its own (2)');
  assert.deepEqual(fold(p, s0, ['billing.query', 'volumes.list'], (i) => T0 + i).rate.tools, { 'billing.query': [T0], 'volumes.list': [T0 + 1] }, 'another tool inside the window is kept');
  const many = fold(p, s0, Array(150).fill('billing.query'), (i) => T0 + i);
  assert.equal(many.rate.tools['billing.query']?.length, 100, 'the largest max of a rate limit');
  assert.deepEqual(many.rate.session, [T0 + 148, T0 + 149], 'the session rate keeps its max');
  // Without a session rate limit no session times are kept.
  assert.deepEqual(fold(policyOf({}), initialSessionState(policyOf({}), { startedAt: T0 }), ['billing.query'], () => T0).rate.session, []);
});

test('the window stays bounded: at most one past the action cap, even when a caller runs denied calls', () => {
  const p = policyOf({ budget: roomy });
  const s = initialSessionState(p, { startedAt: T0, budget: { actions: 2 } });
  const ran = fold(p, s, Array(7).fill('billing.query'), (i) => T0 + i);
  assert.deepEqual(ran.window.map((e) => e.at), [T0 + 4, T0 + 5, T0 + 6]);
  assert.deepEqual(ran.flagged, ['budget.actions'], 'flagged once, by the first budget that closed it');
});

test('closing: flagged by the first budget to reach its cap only; a cap of 0 closes nothing; cost without a cap closes at the first token', () => {
  const p = policyOf({ budget: roomy });
  const both = fold(p, initialSessionState(p, { startedAt: T0, budget: { actions: 1, writes: 1 } }), ['staging.writeConfig'], () => T0);
  assert.deepEqual([sessionMode(both), both.mode, both.flagged], ['closed', 'closed', ['budget.actions']]);
  const writes = fold(p, initialSessionState(p, { startedAt: T0, budget: { writes: 1 } }), ['staging.writeConfig'], () => T0);
  assert.deepEqual([writes.mode, writes.flagged], ['closed', ['budget.writes']]);
  const noWrites = fold(p, initialSessionState(p, { startedAt: T0, budget: { writes: 0 } }), ['staging.writeConfig'], () => T0);
  assert.deepEqual([sessionMode(noWrites), noWrites.flagged], ['normal', []]);
  const noTokens = initialSessionState(p, { startedAt: T0, budget: { tokens: 0 } });
  assert.equal(sessionMode(fold(p, noTokens, ['billing.query'], () => T0)), 'normal', 'free calls under a cap of 0');
  const spent = fold(p, noTokens, ['billing.query'], () => T0, { tokenCost: 1 });
  assert.deepEqual([sessionMode(spent), spent.flagged], ['closed', ['cost.cap']]);
  // A shadow cost cap closes nothing while the enforced budgets still do.
  const shadowCost = policyOf({ budget: { ...roomy, actions: 2 }, costCap: { tokens: 10, mode: 'shadow' } });
  const s = fold(shadowCost, initialSessionState(shadowCost, { startedAt: T0 }), ['billing.query'], () => T0, { tokenCost: 50 });
  assert.deepEqual([sessionMode(s), s.flagged], ['normal', []], 'over the shadow cost cap: reported, not closed');
  const s2 = fold(shadowCost, s, ['billing.query'], () => T0);
  assert.deepEqual([sessionMode(s2), s2.flagged], ['closed', ['budget.actions']]);
});

test('the intent fold: clamped to 0..1, its weight, the threshold itself is not below it, flagged once', () => {
  const p = policyOf({ budget: roomy, intent: { reviewBelow: 0.5, decay: 0.5 } });
  const s = initialSessionState(p, { startedAt: T0 });
  assert.equal(withIntentScore(s, 1.5, 'mean').intent.score, 1);
  assert.equal(withIntentScore(s, -0.5, 'mean').intent.score, 0);
  const two = withIntentScore(withIntentScore(s, 0.9, 'mean'), 0.7, 'mean');
  assert.equal(two.intent.weight, 1.5);
  assert.ok(Math.abs((two.intent.score ?? 0) - (0.45 + 0.7) / 1.5) < 1e-12);
  assert.equal(withIntentScore(s, 0.9).intent.score, 0.9, 'the first score is the score under either fold');
  assert.equal(sessionMode(withIntentScore(s, 0.5)), 'normal', 'at the threshold: not below it');
  const once = withIntentScore(s, 0.2);
  assert.deepEqual([once.mode, once.flagged], ['review', ['intent.review']]);
  const low = withIntentScore(once, 0.1);
  assert.deepEqual([sessionMode(low), low.flagged], ['review', ['intent.review']]);
  for (const bad of ['0.1', Infinity, Number.NaN]) assert.equal(withIntentScore(s, bad as never), s);
});

test('transitions: one call extends one prefix (longest first), the latest start is kept, the completing step is not stored', () => {
  const p = policyOf({ budget: roomy, tiers: { write: { default: 'autonomous' }, destructive: { default: 'autonomous' } }, transitions: [{ id: 'twice', sequence: ['volumes.*', 'volumes.*', 'volumes.delete'] }] });
  const d = new Driver(p);
  d.run(call('volumes.list'));
  assert.deepEqual(d.state.transitions.twice, [{ step: 1, at: T0 }, null], 'one call is one step of the sequence, not two');
  assert.equal(d.peek(call('volumes.delete')).verdict, 'allow');
  d.run(call('volumes.unmount'), {}, { at: T0 + 1 });
  assert.deepEqual(d.state.transitions.twice, [{ step: 2, at: T0 + 1 }, { step: 1, at: T0 }]);
  assert.equal(d.peek(call('volumes.delete')).reasons[0]?.rule, 'transition.forbidden');
  d.run(call('volumes.delete'), {}, { at: T0 + 2, outcome: 'executed' });
  assert.equal(d.state.transitions.twice?.length, 2, 'the completing position is never stored');

  const q = policyOf({ budget: roomy, tiers: { write: { default: 'autonomous' }, destructive: { default: 'autonomous' } }, transitions: [{ id: 'abc', sequence: ['volumes.list', 'services.scale', 'secrets.rotate'], within: { steps: 3 } }] });
  const e = new Driver(q);
  for (const t of ['volumes.list', 'services.scale', 'volumes.list', 'services.scale']) e.run(call(t));
  assert.deepEqual(e.state.transitions.abc, [{ step: 3, at: T0 }, { step: 3, at: T0 }], 'the later start replaces the earlier one');
  assert.equal(e.peek(call('secrets.rotate')).reasons[0]?.rule, 'transition.forbidden', 'within 3 steps of the later start');
  // A call in one rule leaves another rule's progress as it was.
  const r = policyOf({ budget: roomy, tiers: { write: { default: 'autonomous' } }, transitions: [{ id: 'a', from: 'volumes.list', to: 'volumes.unmount' }, { id: 'b', from: 'services.scale', to: 'env.modifyProduction' }] });
  const f = new Driver(r);
  f.run(call('volumes.list'));
  f.run(call('services.scale'));
  assert.deepEqual(f.state.transitions, { a: [{ step: 1, at: T0 }], b: [{ step: 2, at: T0 }] });
  // A state without a rule's progress (recorded before the rule) starts it fresh.
  const bare = advance(q, { ...initialSessionState(q, { startedAt: T0 }), transitions: {} }, call('volumes.list'), 'executed', T0);
  assert.deepEqual(bare.transitions, { abc: [{ step: 1, at: T0 }, null] });
});
