/**
 * The evaluator's checks one by one (`policies/evaluate.ts`): every malformed input word for word,
 * the engine's last line of defence, each rule's exact message, the bounds at their edges (arguments,
 * blast radius, budgets, rates, transitions, intent), the order of reasons and when an unlock is
 * offered. Pure and fast.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, initialSessionState, unlockOf, unlockRequirement, withIntentScore, type SessionState } from '../../policies';
import { Driver, MINUTE, T0, call, policyOf, rules } from './fixtures';

const quiet = { budget: { actions: 1000, writes: 1000, critical: 1000 } };
const auto = { write: { default: 'autonomous' }, destructive: { default: 'autonomous' } };

test('malformed input: each problem word for word; absent facts and zero costs are fine', () => {
  const p = policyOf({});
  const s = initialSessionState(p, { startedAt: T0 });
  const ok = call('billing.query');
  const why = (proposal: unknown, facts: unknown = {}, now = T0) => evaluate(p, s, proposal as never, facts as never, now).reasons.map((r) => r.message);
  const cases: [unknown, unknown, string][] = [
    [null, {}, 'expected an object `{ tool, args, reasoning }`'],
    [[ok], {}, 'expected an object `{ tool, args, reasoning }`'],
    ['x', {}, 'expected an object `{ tool, args, reasoning }`'],
    [{ ...ok, tool: 3 }, {}, '`tool` must be a non-empty string'],
    [{ ...ok, tool: '' }, {}, '`tool` must be a non-empty string'],
    [{ ...ok, args: null }, {}, '`args` must be an object'],
    [{ ...ok, args: 'a' }, {}, '`args` must be an object'],
    [{ ...ok, args: [] }, {}, '`args` must be an object'],
    [{ ...ok, reasoning: undefined }, {}, '`reasoning` must be a string'],
    [{ ...ok, tokenCost: -1 }, {}, '`tokenCost` must be a number ≥ 0'],
    [{ ...ok, tokenCost: '1' }, {}, '`tokenCost` must be a number ≥ 0'],
    [{ ...ok, tokenCost: Infinity }, {}, '`tokenCost` must be a number ≥ 0'],
    [{ ...ok, idempotencyKey: 7 }, {}, '`idempotencyKey` must be a string'],
    [ok, 'facts', 'facts must be an object'],
    [ok, [], 'facts must be an object'],
    [ok, { blastRadius: -1 }, 'the blast-radius estimate must be a number ≥ 0'],
    [ok, { blastRadius: '5' }, 'the blast-radius estimate must be a number ≥ 0'],
    [ok, { blastRadius: Number.NaN }, 'the blast-radius estimate must be a number ≥ 0'],
    [ok, { transitionUnlocked: 'yes' }, '`transitionUnlocked` must be true or false'],
  ];
  for (const [proposal, facts, message] of cases) assert.deepEqual(why(proposal, facts), [`proposal is malformed: ${message}`], message);
  assert.deepEqual(why(ok, {}, Infinity), ['proposal is malformed: `now` must be a finite number of epoch milliseconds']);
  assert.deepEqual(why(ok, {}, '1' as never), ['proposal is malformed: `now` must be a finite number of epoch milliseconds']);
  for (const facts of [undefined, null, { blastRadius: 0, transitionUnlocked: false }]) assert.equal(evaluate(p, s, ok, facts as never, T0).verdict, 'allow');
  for (const extra of [{ tokenCost: 0 }, { idempotencyKey: 'k' }]) assert.equal(evaluate(p, s, { ...ok, ...extra }, {}, T0).verdict, 'allow');
  assert.deepEqual(evaluate(p, s, ok, {}, T0).tier, 'autonomous');
  assert.deepEqual(evaluate(p, s, null as never, {}, T0).tier, 'blocked');
});

test('the last line of defence: whatever throws is a deny naming it, with the hash when there is one', () => {
  const p = policyOf({});
  const throwing = { get closed(): boolean { throw 'a string'; } } as unknown as SessionState;
  assert.deepEqual(evaluate(p, throwing, call('billing.query'), {}, T0), { verdict: 'deny', tier: 'blocked', reasons: [{ rule: 'engine.error', message: 'the policy engine could not evaluate the proposal: a string' }], policyHash: p.hash });
  const noPolicy = evaluate(null as never, initialSessionState(p, { startedAt: T0 }), call('billing.query'), {}, T0);
  assert.equal(noPolicy.policyHash, '');
  assert.match(noPolicy.reasons[0]?.message ?? '', /^the policy engine could not evaluate the proposal: .*null/);
  assert.equal(evaluate({ hash: 7 } as never, initialSessionState(p, { startedAt: T0 }), call('billing.query'), {}, T0).policyHash, '');
});

test('unlockRequirement: only for a known tool of a well-formed proposal', () => {
  const p = policyOf({ transitions: [{ from: 'volumes.list', to: 'volumes.unmount' }] });
  assert.equal(unlockRequirement(p, null as never), undefined);
  assert.equal(unlockRequirement(p, { tool: 5 } as never), undefined);
  assert.equal(unlockRequirement(p, call('no.such')), undefined);
  assert.equal(unlockRequirement(p, call('volumes.unmount'))?.unlocksTransition, true);
});

test('floor rules: the closed session names the budget that closed it; a shadow policy says so; an unknown tool matching a blocked glob names it', () => {
  const p = policyOf(quiet);
  const s = initialSessionState(p, { startedAt: T0 });
  assert.deepEqual(evaluate(p, { ...s, closed: true, flagged: ['intent.review', 'budget.writes'] }, call('billing.query'), {}, T0).reasons[0], { rule: 'session.closed', message: 'the session is closed after `budget.writes` and flagged for review; nothing more runs' });
  assert.deepEqual(evaluate(p, { ...s, closed: true }, call('billing.query'), {}, T0).reasons[0], { rule: 'session.closed', message: 'the session is closed and flagged for review; nothing more runs' });
  const shadow = policyOf({ ...quiet, name: 'trial', mode: 'shadow' });
  const note = { rule: 'policy.shadow', message: 'policy `trial` runs in shadow mode: its rules are recorded, not enforced' };
  assert.deepEqual(new Driver(shadow).peek(call('volumes.delete')).reasons, [note]);
  const closed = { ...initialSessionState(shadow, { startedAt: T0 }), closed: true };
  assert.deepEqual(rules(evaluate(shadow, closed, call('volumes.delete'), {}, T0)), ['session.closed', 'policy.shadow'], 'beside a deny, the note marked always');
  const unknown = new Driver(policyOf({ ...quiet, alwaysBlocked: ['db.*'] })).peek(call('db.drop'));
  assert.deepEqual(unknown.reasons, [
    { rule: 'tool.always-blocked', message: '`db.drop` (matches `db.*`) is always blocked by policy; no approver can unlock it' },
    { rule: 'tool.unknown', message: 'tool `db.drop` is not in the catalog; unknown tools are denied' },
  ]);
  assert.deepEqual(rules(new Driver(policyOf({ ...quiet, alwaysBlocked: ['db.*'] })).peek(call('kv.drop'))), ['tool.unknown']);
});

test('tiers: a blocked tier beside an enforced always-blocked entry adds nothing of its own; beside a shadow one it denies', () => {
  const enforced = new Driver(policyOf({ ...quiet, tools: { 'audit.modify': { tier: 'blocked' } } })).peek(call('audit.modify'));
  assert.deepEqual(rules(enforced), ['tool.always-blocked']);
  const shadowed = new Driver(policyOf({ ...quiet, alwaysBlocked: [{ tool: 'audit.*', mode: 'shadow' }], tools: { 'audit.modify': { tier: 'blocked' } } })).peek(call('audit.modify'));
  assert.deepEqual([shadowed.verdict, rules(shadowed)], ['deny', ['tool.tier']]);
  // A shadow tier on a tool: enforced as the table says, the override reported.
  const trial = new Driver(policyOf({ ...quiet, tools: { 'volumes.delete': { tier: 'autonomous', mode: 'shadow' } } })).peek(call('volumes.delete'));
  assert.deepEqual([trial.verdict, trial.shadow?.verdict], ['approve', 'approve']);
});

test('argument bounds at their edges, word for word; nested paths through lists and nulls are absent', () => {
  const p = policyOf({
    ...quiet,
    tools: {
      'billing.query': {
        args: {
          months: { min: 1, max: 24 },
          region: { enum: ['eu', 'us'] },
          code: { pattern: '^c-[0-9]+$' },
          'filter.ids': { maxItems: 2 },
          note: { maxLength: 5 },
          'deep.inner': { required: true },
        },
      },
    },
  });
  const d = new Driver(p);
  const ok = { months: 1, region: 'us', code: 'c-1', filter: { ids: [1, 2] }, note: '12345', deep: { inner: 0 } };
  assert.equal(d.peek(call('billing.query', ok)).verdict, 'allow');
  assert.equal(d.peek(call('billing.query', { ...ok, months: 24 })).verdict, 'allow');
  assert.equal(d.peek(call('billing.query', { deep: { inner: null } })).verdict, 'allow', 'optional bounds without a value check nothing');
  const msg = (args: Record<string, unknown>) => d.peek(call('billing.query', args)).reasons.map((r) => r.message);
  const at = (path: string, problem: string) => [`argument \`${path}\` of \`billing.query\` ${problem}`];
  assert.deepEqual(msg({ ...ok, months: Infinity }), at('months', 'must be a number, got `null`'));
  assert.deepEqual(msg({ ...ok, months: 25 }), at('months', 'is 25: above the maximum 24'));
  assert.deepEqual(msg({ ...ok, months: 0.5 }), at('months', 'is 0.5: below the minimum 1'));
  assert.deepEqual(msg({ ...ok, region: 10n }), at('region', 'is `10`: not one of `"eu"`, `"us"`'));
  assert.deepEqual(msg({ ...ok, code: 12 }), at('code', 'must be a string, got `12`'));
  assert.deepEqual(msg({ ...ok, code: 'xc-1' }), at('code', 'is `"xc-1"`: does not match the pattern `^c-[0-9]+$`'));
  assert.deepEqual(msg({ ...ok, note: 12 }), at('note', 'must be a string, got `12`'));
  assert.deepEqual(msg({ ...ok, note: '123456' }), at('note', 'is 6 characters long: above the maximum 5'));
  assert.deepEqual(msg({ ...ok, filter: { ids: 'a' } }), at('filter.ids', 'must be a list, got `"a"`'));
  assert.deepEqual(msg({ ...ok, filter: { ids: [1, 2, 3] } }), at('filter.ids', 'has 3 items: above the maximum 2'));
  assert.deepEqual(msg({ ...ok, note: 'x'.repeat(50) }), at('note', `is 50 characters long: above the maximum 5`));
  assert.deepEqual(msg({ ...ok, region: 'x'.repeat(50) }), at('region', `is \`"${'x'.repeat(36)}...\`: not one of \`"eu"\`, \`"us"\``));
  assert.deepEqual(msg({ ...ok, deep: { other: 1 } }), at('deep.inner', 'is required by policy'));
  // Anything but an object on the path: nothing there can be checked, so the bound fails (not "missing").
  for (const [deep, kind] of [[[{ inner: 1 }], 'a list'], [null, 'null'], ['inner', 'a string']] as const) {
    assert.deepEqual(msg({ ...ok, deep }), at('deep.inner', `cannot be checked: \`deep\` is ${kind}, not an object (a bound path names object keys only)`), JSON.stringify(deep));
  }
  // A shadow bound reports and does not deny.
  const shadow = new Driver(policyOf({ ...quiet, tools: { 'billing.query': { mode: 'shadow', args: { months: { max: 2 } } } } })).peek(call('billing.query', { months: 3 }));
  assert.deepEqual([shadow.verdict, shadow.shadow?.reasons.map((r) => r.rule)], ['allow', ['args.bounds']]);
});

test('blast radius at its edges, with grouped numbers; an estimate with only a hard cap still needs one', () => {
  const p = policyOf({ ...quiet, tiers: auto, tools: { 'billing.deleteRecords': { blastRadius: { approvalAbove: 1000, denyAbove: 1_234_567 } }, 'volumes.delete': { blastRadius: { denyAbove: 10 } } } });
  const d = new Driver(p);
  const on = (radius: number | undefined, tool = 'billing.deleteRecords') => d.peek(call(tool), radius === undefined ? {} : { blastRadius: radius }).reasons.filter((r) => r.rule.startsWith('blast')).map((r) => `${r.rule}: ${r.message}`);
  assert.deepEqual(on(1000), []);
  assert.deepEqual(on(1000.5), ['blast-radius.limit: `billing.deleteRecords` would affect 1,000.5 rows or objects: above the limit of 1,000 without approval']);
  assert.deepEqual(on(1_234_567), ['blast-radius.limit: `billing.deleteRecords` would affect 1,234,567 rows or objects: above the limit of 1,000 without approval']);
  assert.deepEqual(on(1_234_568), ['blast-radius.cap: `billing.deleteRecords` would affect 1,234,568 rows or objects: above the hard cap of 1,234,567']);
  assert.deepEqual(on(undefined), ['blast-radius.unknown: `billing.deleteRecords` has a blast-radius bound but no estimate was given']);
  assert.deepEqual(on(undefined, 'volumes.delete'), ['blast-radius.unknown: `volumes.delete` has a blast-radius bound but no estimate was given']);
  assert.deepEqual(on(10, 'volumes.delete'), []);
  assert.deepEqual(on(11, 'volumes.delete'), ['blast-radius.cap: `volumes.delete` would affect 11 rows or objects: above the hard cap of 10']);
  assert.deepEqual(on(5, 'volumes.list'), [], 'a tool without a bound ignores the estimate');
});

test('budgets word for word: the hard caps, the critical approval that turns the session read-only or closes it, the cost cap', () => {
  const p = policyOf({ budget: { actions: 2, writes: 1, critical: 5, windowMinutes: 45 }, tiers: auto, costCap: { tokens: 1500 } });
  const d = new Driver(p);
  const first = d.peek(call('volumes.delete', {}, { tokenCost: 1501 }));
  assert.deepEqual(first.reasons.map((r) => r.message), ["the session's cost cap of 1,500 tokens would be passed (0 spent, this call 1,501)"]);
  assert.equal(d.peek(call('volumes.delete', {}, { tokenCost: 1500 })).verdict, 'allow', 'exactly at the cap');
  const entry = (write: boolean) => ({ at: T0, write, critical: false });
  const wrote = { ...d.state, window: [entry(true)] };
  assert.deepEqual(evaluate(p, wrote, call('staging.writeConfig'), {}, T0).reasons.map((r) => r.message), ["the session's budget of 1 writes per 45 minutes is used up"]);
  assert.equal(evaluate(p, wrote, call('billing.query'), {}, T0).verdict, 'allow', 'reads use no write budget');
  const acted = { ...d.state, window: [entry(false), entry(false)] };
  assert.deepEqual(evaluate(p, acted, call('billing.query'), {}, T0).reasons.map((r) => r.message), ["the session's budget of 2 actions per 45 minutes is used up"]);
  assert.deepEqual(evaluate(p, { ...d.state, window: [entry(false)] }, call('billing.query'), {}, T0).verdict, 'allow', 'the last action');
  const crit = (limit: number, used: number) => {
    const q = policyOf({ budget: { ...quiet.budget, critical: limit }, tiers: auto });
    let s = initialSessionState(q, { startedAt: T0 });
    s = { ...s, window: Array.from({ length: used }, () => ({ at: T0, write: true, critical: true })) };
    return evaluate(q, s, call('volumes.delete'), {}, T0).reasons.map((r) => `${r.rule}: ${r.message}`);
  };
  assert.deepEqual(crit(5, 2), ['tier.destructive: destructive tool `volumes.delete` on production runs autonomously (tier table)'], '3 of 5 is below 80%');
  assert.deepEqual(crit(5, 3), ['budget.critical: this is critical action 4 of 5 allowed per 30 minutes: the session turns read-only after it']);
  assert.deepEqual(crit(5, 4), ['budget.critical: this is critical action 5 of 5 allowed per 30 minutes: the session closes after it']);
  assert.deepEqual(crit(5, 5), ["budget.critical: the session's budget of 5 critical actions per 30 minutes is used up"]);
});

test('rates at their edges, word for word: a time exactly one window back no longer counts', () => {
  const p = policyOf({ ...quiet, rateLimits: { perSession: { max: 2, perSeconds: 10 } }, tools: { 'volumes.list': { rateLimit: { max: 1, perSeconds: 5 } } } });
  const d = new Driver(p);
  d.run(call('billing.query'), {}, { at: T0 });
  d.run(call('volumes.list'), {}, { at: T0 + 5_000 });
  assert.deepEqual(d.peek(call('billing.query'), {}, T0 + 9_999).reasons, [{ rule: 'rate.session', message: 'the session passed its rate limit of 2 proposals per 10 seconds' }]);
  assert.equal(d.peek(call('billing.query'), {}, T0 + 10_000).verdict, 'allow');
  assert.deepEqual(d.peek(call('volumes.list'), {}, T0 + 9_999).reasons.map((r) => r.message), ['the session passed its rate limit of 2 proposals per 10 seconds', '`volumes.list` passed its rate limit of 1 calls per 5 seconds']);
  assert.deepEqual(rules(d.peek(call('volumes.list'), {}, T0 + 10_000)), ['tier.read']);
});

test('transitions at their edges: within N steps and M minutes inclusive; unlocked it is a note; the message names the rule', () => {
  const p = policyOf({ ...quiet, tiers: auto, transitions: [{ id: 'list-unmount', from: 'volumes.list', to: 'volumes.unmount', within: { steps: 2, minutes: 10 }, reason: 'look first' }] });
  const d = new Driver(p);
  d.run(call('volumes.list'));
  d.run(call('billing.query'));
  const denied = d.peek(call('volumes.unmount'));
  assert.deepEqual(denied.reasons, [{ rule: 'transition.forbidden', message: '`list-unmount`: `volumes.list` then `volumes.unmount` within 2 steps and within 10 minutes is a forbidden transition: look first; only an out-of-band approval can unlock it' }]);
  assert.deepEqual(unlockOf(denied)?.unlocksTransition, true);
  assert.equal(d.peek(call('volumes.unmount'), {}, T0 + 10 * MINUTE).verdict, 'deny', 'exactly 10 minutes later');
  assert.equal(d.peek(call('volumes.unmount'), {}, T0 + 10 * MINUTE + 1).verdict, 'allow');
  const unlocked = d.peek(call('volumes.unmount'), { transitionUnlocked: true });
  assert.deepEqual([unlocked.verdict, unlocked.reasons], ['allow', [{ rule: 'tier.write', message: 'write tool `volumes.unmount` on production runs autonomously (tier table)' }, { rule: 'transition.unlocked', message: '`list-unmount` is a forbidden transition: this call asks a person to unlock it out of band' }]]);
  d.run(call('billing.query'));
  assert.equal(d.peek(call('volumes.unmount')).verdict, 'allow', 'three steps later');
  // A forbidden transition beside an approval trigger: still denied, still unlockable.
  const q = policyOf({ ...quiet, transitions: [{ from: 'volumes.list', to: 'volumes.unmount' }] });
  const e = new Driver(q);
  e.run(call('volumes.list'));
  const both = e.peek(call('volumes.unmount'));
  assert.deepEqual([both.verdict, rules(both), unlockOf(both)?.unlocksTransition], ['deny', ['transition.forbidden', 'tier.write'], true]);
});

test('intent: the enforced and the shadow review word for word; at the threshold or unscored nothing; reads never', () => {
  const p = policyOf({ ...quiet, tiers: auto, intent: { reviewBelow: 0.5 } });
  const s = initialSessionState(p, { startedAt: T0 });
  assert.deepEqual(evaluate(p, withIntentScore(s, 0.1), call('staging.writeConfig'), {}, T0).reasons[0], { rule: 'intent.review', message: "the session's intent-alignment score fell below 0.5: every write needs approval" });
  const q = policyOf({ ...quiet, tiers: auto, intent: { reviewBelow: 0.5, mode: 'shadow' } });
  const t = initialSessionState(q, { startedAt: T0 });
  assert.deepEqual(evaluate(q, withIntentScore(t, 0.123), call('staging.writeConfig'), {}, T0).shadow?.reasons, [{ rule: 'intent.review', message: "the session's intent-alignment score 0.12 is below 0.5: writes would need approval" }]);
  assert.deepEqual(evaluate(q, withIntentScore(t, 0.5), call('staging.writeConfig'), {}, T0).shadow?.reasons, []);
  assert.deepEqual(evaluate(q, t, call('staging.writeConfig'), {}, T0).shadow?.reasons, [], 'no score yet');
  assert.deepEqual(evaluate(q, withIntentScore(t, 0.1), call('billing.query'), {}, T0).shadow?.reasons, []);
});

test('mandate: by resource or by tool glob (non-strings ignored), only for the effects the policy names', () => {
  const p = policyOf({ ...quiet, tiers: auto });
  const d = new Driver(p, { mandate: { tools: ['volumes.l*', 7 as never], resources: ['config'] } });
  assert.deepEqual(rules(d.peek(call('volumes.list'))), ['tier.read']);
  assert.deepEqual(rules(d.peek(call('volumes.list'))), ['tier.read'], 'the second look (cached globs) agrees');
  assert.deepEqual(rules(d.peek(call('staging.writeConfig'))), ['tier.write']);
  assert.deepEqual(d.peek(call('volumes.delete')).reasons, [{ rule: 'mandate.outside', message: '`volumes.delete` (resource `volumes`) is outside the session\'s declared mandate' }]);
  const writes = new Driver(policyOf({ ...quiet, tiers: auto, mandate: { effects: ['destructive'] } }), { mandate: { resources: ['billing'] } });
  assert.deepEqual(rules(writes.peek(call('services.scale'))), ['tier.write']);
  assert.deepEqual(rules(writes.peek(call('volumes.delete'))), ['mandate.outside']);
});

test('reasons: denials first, then approval triggers; notes only on an allow or when marked always', () => {
  const p = policyOf({ ...quiet, transitions: [{ from: 'volumes.list', to: 'volumes.unmount' }], tools: { 'volumes.unmount': { blastRadius: { approvalAbove: 1 } } } });
  const d = new Driver(p);
  d.run(call('volumes.list'));
  const r = d.peek(call('volumes.unmount'), { blastRadius: 5, transitionUnlocked: true });
  assert.deepEqual([r.verdict, rules(r)], ['approve', ['tier.write', 'blast-radius.limit', 'transition.unlocked']]);
  const denied = d.peek(call('volumes.unmount'), { blastRadius: 5 });
  assert.deepEqual([denied.verdict, rules(denied)], ['deny', ['transition.forbidden', 'tier.write', 'blast-radius.limit']]);
  assert.equal(denied.tier, 'approval');
});

test('edges the other tests pass by: read-only mode word for word, a min-only bound, a 40-character value, a string\'s own properties, a start tool again, an approval-only blast bound', () => {
  const p = policyOf({ ...quiet, tiers: auto });
  const s = initialSessionState(p, { startedAt: T0 });
  assert.equal(unlockRequirement(p, undefined as never), undefined, 'no proposal at all');
  const ro = { ...s, readOnly: true };
  assert.deepEqual(evaluate(p, ro, call('staging.writeConfig'), {}, T0).reasons, [{ rule: 'session.read-only', message: 'the session is read-only (a budget passed 80%): write tool `staging.writeConfig` is refused' }]);
  assert.equal(evaluate(p, ro, call('billing.query'), {}, T0).verdict, 'allow', 'reads still run');
  const q = policyOf({ ...quiet, tools: { 'billing.query': { args: { months: { min: 1 }, region: { enum: ['eu'] }, 'code.length': { max: 1 } } } } });
  const d = new Driver(q);
  const msg = (args: Record<string, unknown>) => d.peek(call('billing.query', args)).reasons.map((r) => r.message);
  assert.deepEqual(msg({ months: 'a' }), ['argument `months` of `billing.query` must be a number, got `"a"`']);
  // A string has no argument `length`: its own properties are never read, and a path through it checks nothing, so it fails.
  assert.deepEqual(msg({ code: 'abcd' }), ['argument `code.length` of `billing.query` cannot be checked: `code` is a string, not an object (a bound path names object keys only)']);
  assert.equal(d.peek(call('billing.query', {})).verdict, 'allow', 'absent, nothing to check');
  const forty = 'x'.repeat(38);
  assert.deepEqual(msg({ region: forty }), [`argument \`region\` of \`billing.query\` is \`"${forty}"\`: not one of \`"eu"\``]);
  assert.deepEqual(msg({ region: `${forty}y` }), [`argument \`region\` of \`billing.query\` is \`"${'x'.repeat(36)}...\`: not one of \`"eu"\``]);
  const t = new Driver(policyOf({ ...quiet, tiers: auto, transitions: [{ from: 'volumes.list', to: 'volumes.unmount' }] }));
  t.run(call('volumes.list'));
  assert.equal(t.peek(call('volumes.list')).verdict, 'allow', 'the start of a transition again completes nothing');
  const b = new Driver(policyOf({ ...quiet, tiers: auto, tools: { 'volumes.delete': { blastRadius: { approvalAbove: 10 } } } }));
  assert.deepEqual(rules(b.peek(call('volumes.delete'))), ['blast-radius.unknown']);
  assert.deepEqual(rules(new Driver(policyOf({ ...quiet, tiers: auto, tools: { 'volumes.delete': { blastRadius: {} } } })).peek(call('volumes.delete'))), ['tier.destructive'], 'an empty bound needs no estimate');
  // A blocked tier beside an enforced always-blocked entry adds no finding, not even a shadow one in a shadow policy.
  assert.deepEqual(new Driver(policyOf({ ...quiet, mode: 'shadow' })).peek(call('audit.modify')).shadow, { verdict: 'deny', reasons: [] });
});
