import { test } from 'node:test';
import assert from 'node:assert/strict';
import { budgetLeft, childBudget, inheritedTransitions, sessionMode, withIntentScore } from '../../policies';
import { Driver, MINUTE, call, policyOf, rules } from './fixtures';

const roomy = { actions: 1000, writes: 1000, critical: 1000 };

test('budget defaults: 20 actions, 5 writes, 1 critical per 30 minutes', () => {
  const p = policyOf({});
  const d = new Driver(p);
  assert.deepEqual(budgetLeft(p, d.state, d.now), { actions: 20, writes: 5, critical: 1, tokens: 1_000_000 });
});

test('writes: read-only at 80%, writes then denied while reads still run', () => {
  const p = policyOf({ budget: { ...roomy, writes: 5 } });
  const d = new Driver(p);
  for (let i = 0; i < 3; i++) assert.equal(d.run(call('staging.writeConfig'), {}, { at: d.now + 1000 }).verdict, 'allow');
  assert.equal(sessionMode(d.state), 'normal');
  d.run(call('staging.writeConfig'), {}, { at: d.now + 1000 }); // 4 of 5 = 80%
  assert.equal(sessionMode(d.state), 'read-only');
  const w = d.peek(call('staging.writeConfig'));
  assert.equal(w.verdict, 'deny');
  assert.deepEqual(rules(w), ['session.read-only']);
  assert.equal(d.peek(call('volumes.delete')).verdict, 'deny');
  assert.equal(d.peek(call('billing.query')).verdict, 'allow');
});

test('actions: closed at 100%, everything denied and the session flagged for review', () => {
  const p = policyOf({ budget: { ...roomy, actions: 5 } });
  const d = new Driver(p);
  for (let i = 0; i < 5; i++) assert.equal(d.run(call('billing.query'), {}, { at: d.now + 1000 }).verdict, 'allow', `call ${i + 1}`);
  assert.equal(sessionMode(d.state), 'closed');
  assert.deepEqual(d.state.flagged, ['budget.actions']);
  const r = d.peek(call('billing.query'));
  assert.equal(r.verdict, 'deny');
  assert.deepEqual(rules(r).slice(0, 2), ['session.closed', 'budget.actions']);
  // Modes never move back, even once the window has slid past every action.
  d.tick(24 * 60 * MINUTE);
  assert.equal(d.peek(call('billing.query')).verdict, 'deny');
});

test('critical = destructive or approval tier; the last critical action needs approval, then the session closes', () => {
  const p = policyOf({ budget: { ...roomy, critical: 2 }, tiers: { destructive: { default: 'autonomous' } } });
  const d = new Driver(p);
  assert.equal(d.run(call('volumes.delete')).verdict, 'allow', 'destructive, autonomous by the table, 1 of 2');
  const second = d.peek(call('services.scale'));
  assert.equal(second.verdict, 'approve');
  assert.ok(rules(second).includes('budget.critical'));
  d.run(call('services.scale'));
  assert.equal(sessionMode(d.state), 'closed');
  assert.deepEqual(d.state.flagged, ['budget.critical']);
});

test('denied and expired calls use no budget; failed ones do', () => {
  const p = policyOf({ budget: { ...roomy, writes: 10 } });
  const d = new Driver(p);
  d.run(call('staging.writeConfig'), {}, { outcome: 'denied' });
  d.run(call('staging.writeConfig'), {}, { outcome: 'expired' });
  assert.equal(budgetLeft(p, d.state, d.now).writes, 10);
  d.run(call('staging.writeConfig'), {}, { outcome: 'failed' });
  assert.equal(budgetLeft(p, d.state, d.now).writes, 9);
  assert.deepEqual({ ...d.state.counters }, { proposals: 3, executed: 0, denied: 1, failed: 1, expired: 1, tokens: 0 });
});

test('the budget window slides: old actions stop counting and leave the state', () => {
  const p = policyOf({ budget: { windowMinutes: 30, actions: 10, writes: 10, critical: 10 } });
  const d = new Driver(p);
  for (let i = 0; i < 7; i++) d.run(call('billing.query'), {}, { at: d.now + MINUTE });
  assert.equal(budgetLeft(p, d.state, d.now).actions, 3);
  d.run(call('billing.query'), {}, { at: d.now + 31 * MINUTE });
  assert.equal(budgetLeft(p, d.state, d.now).actions, 9);
  assert.equal(d.state.window.length, 1);
  assert.equal(sessionMode(d.state), 'normal');
});

test('a budget override can lower the policy budget but never raise it', () => {
  const p = policyOf({});
  const low = new Driver(p, { budget: { actions: 4, writes: 100, tokens: 10 } });
  assert.deepEqual({ ...low.state.limits }, { actions: 4, writes: 5, critical: 1, tokens: 10 });
});

test('cost cap: a call that would pass the cap is denied; at the cap the session halts (closed)', () => {
  const p = policyOf({ budget: roomy, costCap: { tokens: 1000 } });
  const d = new Driver(p);
  d.run(call('billing.query', {}, { tokenCost: 600 }));
  const over = d.peek(call('billing.query', {}, { tokenCost: 500 }));
  assert.equal(over.verdict, 'deny');
  assert.equal(over.reasons[0]?.rule, 'cost.cap');
  assert.equal(sessionMode(d.state), 'normal');
  d.run(call('billing.query', {}, { tokenCost: 400 }));
  assert.equal(d.state.counters.tokens, 1000);
  assert.equal(sessionMode(d.state), 'closed');
  assert.deepEqual(d.state.flagged, ['cost.cap']);
});

test('rate limit per tool (100 per minute by default) and per session; old calls leave the window', () => {
  const p = policyOf({ budget: { actions: 10_000, writes: 10_000, critical: 10_000, windowMinutes: 1 } });
  const d = new Driver(p);
  for (let i = 0; i < 100; i++) d.run(call('billing.query'), {}, { at: d.now + 100 });
  const r = d.peek(call('billing.query'), {}, d.now + 100);
  assert.equal(r.verdict, 'deny');
  assert.deepEqual(rules(r), ['rate.tool']);
  assert.match(r.reasons[0]?.message ?? '', /`billing.query` passed its rate limit of 100 calls per 60 seconds/);
  assert.equal(d.peek(call('billing.summary', { months: 1 }), {}, d.now + 100).verdict, 'allow', 'another tool is not limited');
  assert.equal(d.peek(call('billing.query'), {}, d.now + 60_000).verdict, 'allow', 'a minute later the window has room');
  assert.ok((d.state.rate.tools['billing.query']?.length ?? 0) <= 100, 'the state keeps at most max timestamps');

  const s = new Driver(policyOf({ budget: roomy, rateLimits: { perSession: { max: 3, perSeconds: 10 } } }));
  for (const t of ['billing.query', 'billing.summary', 'volumes.list']) s.run(call(t), {}, { at: s.now + 1000 });
  assert.deepEqual(rules(s.peek(call('billing.query'), {}, s.now + 1000)), ['rate.session']);
  assert.equal(s.peek(call('billing.query'), {}, s.now + 10_000).verdict, 'allow');
});

test('a per-tool rate limit overrides the default; denied proposals count too', () => {
  const p = policyOf({ budget: roomy, tools: { 'volumes.list': { rateLimit: { max: 2, perSeconds: 60 } } } });
  const d = new Driver(p);
  d.run(call('volumes.list'), {}, { outcome: 'denied' });
  d.run(call('volumes.list'));
  assert.deepEqual(rules(d.peek(call('volumes.list'))), ['rate.tool']);
});

test('intent: below the review threshold every write needs approval; older scores decay (the mean fold of sessions before `intent-lowest-fold`)', () => {
  const p = policyOf({ budget: roomy, intent: { reviewBelow: 0.55, decay: 0.5 } });
  const d = new Driver(p);
  d.state = withIntentScore(d.state, 0.9, 'mean');
  d.state = withIntentScore(d.state, 0.4, 'mean');
  // weights: 0.9 × 0.5, 0.4 × 1 → (0.45 + 0.4) / 1.5
  assert.ok(Math.abs((d.state.intent.score ?? 0) - 0.85 / 1.5) < 1e-12);
  assert.equal(sessionMode(d.state), 'normal');
  // The default fold (today's sessions) lets no low call hide behind earlier good ones.
  const lowest = withIntentScore(withIntentScore(new Driver(p).state, 0.9), 0.4);
  assert.equal(lowest.intent.score, 0.4);
  assert.equal(sessionMode(lowest), 'review');
  d.state = withIntentScore(d.state, 0.1, 'mean');
  assert.equal(sessionMode(d.state), 'review');
  const w = d.peek(call('staging.writeConfig'));
  assert.equal(w.verdict, 'approve');
  assert.deepEqual(rules(w), ['intent.review']);
  assert.equal(d.peek(call('billing.query')).verdict, 'allow', 'reads are not held back');
  // Review is a forward move: a better score later does not undo it.
  d.state = withIntentScore(d.state, 1);
  d.state = withIntentScore(d.state, 1);
  assert.equal(sessionMode(d.state), 'review');
  assert.equal(withIntentScore(d.state, Number.NaN), d.state, 'a non-number is ignored');
});

test('mode order: read-only then review then closed, only forward', () => {
  const p = policyOf({ budget: { ...roomy, writes: 5 } });
  const d = new Driver(p);
  for (let i = 0; i < 4; i++) d.run(call('staging.writeConfig'));
  assert.equal(sessionMode(d.state), 'read-only');
  d.state = withIntentScore(d.state, 0);
  assert.equal(sessionMode(d.state), 'review');
  assert.equal(d.peek(call('staging.writeConfig')).verdict, 'deny', 'read-only still refuses writes in review');
});

test('mandate: a call outside the declared tools and resources needs approval', () => {
  const p = policyOf({ budget: roomy });
  const d = new Driver(p, { mandate: { tools: ['billing.*'], resources: ['config'] } });
  assert.equal(d.peek(call('billing.query')).verdict, 'allow');
  assert.equal(d.peek(call('staging.writeConfig')).verdict, 'allow', 'resource `config` is declared');
  const out = d.peek(call('volumes.list'));
  assert.equal(out.verdict, 'approve');
  assert.deepEqual(rules(out), ['mandate.outside']);
  assert.match(out.reasons[0]?.message ?? '', /`volumes.list` \(resource `volumes`\) is outside the session's declared mandate/);
  assert.equal(new Driver(p).peek(call('volumes.list')).verdict, 'allow', 'no mandate declared: no mandate rule');
  const writesOnly = new Driver(policyOf({ budget: roomy, mandate: { effects: ['write', 'destructive'] } }), { mandate: { resources: ['billing'] } });
  assert.equal(writesOnly.peek(call('volumes.list')).verdict, 'allow');
  assert.deepEqual(rules(writesOnly.peek(call('staging.writeConfig'))), ['mandate.outside']);
});

test('sub-agents: a quarter of what the parent has left, and its transition progress', () => {
  const p = policyOf({ budget: { actions: 20, writes: 8, critical: 4 }, costCap: { tokens: 1000 }, transitions: [{ from: 'volumes.list', to: 'volumes.unmount' }] });
  const parent = new Driver(p);
  parent.run(call('volumes.list', {}, { tokenCost: 200 }));
  assert.deepEqual(childBudget(p, parent.state, parent.now), { actions: 4, writes: 2, critical: 1, tokens: 200 });
  const inherited = inheritedTransitions(p, parent.state);
  assert.ok(inherited);
  const child = new Driver(p, { startedAt: parent.now, budget: childBudget(p, parent.state, parent.now), inheritedTransitions: inherited });
  assert.deepEqual({ ...child.state.limits }, { actions: 4, writes: 2, critical: 1, tokens: 200 });
  const r = child.peek(call('volumes.unmount'));
  assert.equal(r.verdict, 'deny', 'the child cannot finish what the parent began');
  assert.equal(r.reasons[0]?.rule, 'transition.forbidden');
  const noInherit = policyOf({ subAgents: { inheritTransitions: false, budgetShare: 0.5 } });
  assert.equal(inheritedTransitions(noInherit, new Driver(noInherit).state), undefined);
});

test('sequences with globs within N steps', () => {
  const p = policyOf({ budget: roomy, tiers: { write: { default: 'autonomous' }, destructive: { default: 'autonomous' } }, transitions: [{ id: 'scale-restart-env', sequence: ['services.*', 'secrets.rotate', 'env.modifyProduction'], within: { steps: 3 } }] });
  const hit = new Driver(p);
  hit.run(call('services.scale'));
  hit.run(call('secrets.rotate'));
  const r = hit.peek(call('env.modifyProduction'));
  assert.equal(r.verdict, 'deny');
  assert.match(r.reasons[0]?.message ?? '', /^`scale-restart-env`: `services.\*` then `secrets.rotate` then `env.modifyProduction` within 3 steps is a forbidden transition/);

  const far = new Driver(p);
  far.run(call('services.scale'));
  far.run(call('secrets.rotate'));
  far.run(call('billing.query'));
  far.run(call('billing.query'));
  assert.equal(far.peek(call('env.modifyProduction')).verdict, 'allow', 'the first step is now 4 steps back');

  const order = new Driver(p);
  order.run(call('secrets.rotate'));
  order.run(call('services.scale'));
  assert.equal(order.peek(call('env.modifyProduction')).verdict, 'allow', 'out of order is no match');
});

test('pairs within minutes; without `within` a pair holds for the whole session', () => {
  const p = policyOf({ budget: roomy, transitions: [{ from: 'volumes.list', to: 'volumes.delete', within: { minutes: 10 } }, { from: 'secrets.rotate', to: 'services.restart' }] });
  const d = new Driver(p);
  d.run(call('volumes.list'));
  assert.equal(d.peek(call('volumes.delete'), {}, d.now + 9 * MINUTE).verdict, 'deny');
  assert.equal(d.peek(call('volumes.delete'), {}, d.now + 11 * MINUTE).verdict, 'approve');
  d.run(call('secrets.rotate'), {}, { at: d.now + MINUTE });
  for (let i = 0; i < 10; i++) d.run(call('billing.query'), {}, { at: d.now + 10 * MINUTE });
  assert.equal(d.peek(call('services.restart')).reasons[0]?.rule, 'transition.forbidden');
});

test('a denied first step does not start a transition', () => {
  const p = policyOf({ budget: roomy, transitions: [{ from: 'volumes.list', to: 'volumes.unmount' }] });
  const d = new Driver(p);
  d.run(call('volumes.list'), {}, { outcome: 'denied' });
  assert.equal(d.peek(call('volumes.unmount')).verdict, 'approve');
});

test('session state is plain JSON and stays bounded over a long session', () => {
  const p = policyOf({ budget: { windowMinutes: 30, actions: 40, writes: 40, critical: 40 }, transitions: [{ sequence: ['volumes.list', 'services.scale', 'volumes.delete'] }] });
  const d = new Driver(p);
  const tools = ['billing.query', 'volumes.list', 'staging.writeConfig', 'billing.summary'];
  let maxSize = 0;
  for (let i = 0; i < 2000; i++) {
    d.run(call(tools[i % tools.length] ?? 'billing.query', { months: 1 }), {}, { at: d.now + MINUTE });
    maxSize = Math.max(maxSize, JSON.stringify(d.state).length);
  }
  assert.deepEqual(JSON.parse(JSON.stringify(d.state)), d.state);
  assert.ok(maxSize < 8_000, `state grew to ${maxSize} characters`);
  assert.equal(d.state.counters.proposals, 2000);
});

test('shadow budgets, cost cap, rate limits, intent and mandate are reported, never enforced', () => {
  const p = policyOf({
    budget: { actions: 2, writes: 2, critical: 2, mode: 'shadow' },
    costCap: { tokens: 10, mode: 'shadow' },
    rateLimits: { perTool: { max: 1, perSeconds: 60, mode: 'shadow' } },
    intent: { reviewBelow: 0.5, mode: 'shadow' },
    mandate: { mode: 'shadow' },
  });
  const d = new Driver(p, { mandate: { resources: ['config'] } });
  d.run(call('staging.writeConfig', {}, { tokenCost: 20 }));
  d.run(call('staging.writeConfig'));
  d.state = withIntentScore(d.state, 0);
  assert.equal(sessionMode(d.state), 'normal', 'shadow rules move no mode');
  const r = d.peek(call('staging.writeConfig'));
  assert.equal(r.verdict, 'allow');
  assert.equal(r.shadow?.verdict, 'deny');
  const shadowRules = r.shadow?.reasons.map((x) => x.rule) ?? [];
  for (const rule of <const>['budget.actions', 'budget.writes', 'cost.cap', 'rate.tool', 'intent.review']) assert.ok(shadowRules.includes(rule), `${rule} in ${shadowRules.join()}`);
  const outside = d.peek(call('billing.query'));
  assert.equal(outside.verdict, 'allow');
  assert.ok(outside.shadow?.reasons.some((x) => x.rule === 'mandate.outside'));
});
