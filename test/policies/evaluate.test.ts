import { test } from 'node:test';
import assert from 'node:assert/strict';
import { approvalOf, evaluate, initialSessionState, unlockOf, unlockRequirement, type ToolInfo } from '../../policies';
import { Driver, T0, call, examplePolicy, policyOf, rules } from './fixtures';

const quiet = { budget: { actions: 1000, writes: 1000, critical: 1000 } };

test('defaults: reads autonomous, staging writes autonomous, production writes and destructive need approval', () => {
  const p = policyOf(quiet);
  const d = new Driver(p);
  const read = d.peek(call('billing.query'));
  assert.equal(read.verdict, 'allow');
  assert.equal(read.tier, 'autonomous');
  assert.deepEqual(rules(read), ['tier.read']);
  assert.equal(d.peek(call('staging.writeConfig')).verdict, 'allow');
  const write = d.peek(call('services.scale'));
  assert.equal(write.verdict, 'approve');
  assert.deepEqual(rules(write), ['tier.write']);
  assert.match(write.reasons[0]?.message ?? '', /write tool `services.scale` on production needs human approval/);
  const destructive = d.peek(call('volumes.delete'));
  assert.equal(destructive.verdict, 'approve');
  assert.equal(destructive.tier, 'approval');
  assert.deepEqual(rules(destructive), ['tier.destructive']);
});

test('an environment not named in the tier table takes the `default` tier', () => {
  const tools: ToolInfo[] = [{ name: 'qa.write', description: '', effect: 'write', environment: 'qa', resource: 'qa', estimatesBlastRadius: false }];
  const strict = policyOf({ ...quiet, tiers: { write: { staging: 'autonomous', default: 'blocked' } } }, tools);
  assert.equal(new Driver(strict).peek(call('qa.write')).verdict, 'deny');
  const lax = policyOf({ ...quiet, tiers: { write: { qa: 'autonomous' } } }, tools);
  assert.equal(new Driver(lax).peek(call('qa.write')).verdict, 'allow');
});

test('unknown tools are denied', () => {
  const d = new Driver(policyOf({}));
  const r = d.peek(call('db.dropEverything'));
  assert.equal(r.verdict, 'deny');
  assert.equal(r.tier, 'blocked');
  assert.deepEqual(rules(r), ['tool.unknown']);
  assert.equal(r.reasons[0]?.message, 'tool `db.dropEverything` is not in the catalog; unknown tools are denied');
});

test('always-blocked globs deny catalog and unknown tools alike, and offer no unlock', () => {
  const p = policyOf({ ...quiet, alwaysBlocked: ['audit.*', 'iam.crossAccount*', { tool: 'kms.*', reason: 'keys are changed by humans' }] });
  const d = new Driver(p);
  const audit = d.peek(call('audit.modify'));
  assert.equal(audit.verdict, 'deny');
  assert.equal(audit.tier, 'blocked');
  assert.deepEqual(rules(audit), ['tool.always-blocked']);
  assert.equal(audit.unlock, undefined);
  assert.equal(approvalOf(audit), undefined);
  const iam = d.peek(call('iam.crossAccountAssume'));
  assert.deepEqual(rules(iam), ['tool.always-blocked', 'tool.unknown']);
  const kms = d.peek(call('kms.rotateKey'));
  assert.match(kms.reasons[0]?.message ?? '', /`kms.rotateKey` \(matches `kms.\*`\) is always blocked by policy: keys are changed by humans/);
});

test('an always-blocked tool stays denied even with a tier override to autonomous and an unlock fact', () => {
  const p = policyOf({ ...quiet, tools: { 'audit.modify': { tier: 'autonomous' } } });
  const r = new Driver(p).peek(call('audit.modify'), { transitionUnlocked: true });
  assert.equal(r.verdict, 'deny');
});

test('per-tool overrides set the tier, exact names before globs', () => {
  const p = policyOf({ ...quiet, tools: { 'services.*': { tier: 'blocked' }, 'services.scale': { tier: 'autonomous' } } });
  const d = new Driver(p);
  const scale = d.peek(call('services.scale'));
  assert.equal(scale.verdict, 'allow');
  assert.deepEqual(rules(scale), ['tool.tier']);
  const restart = d.peek(call('services.restart'));
  assert.equal(restart.verdict, 'deny');
  assert.equal(restart.tier, 'blocked');
  assert.match(restart.reasons[0]?.message ?? '', /is blocked \(per-tool override\)/);
});

test('argument bounds: min, max, enum, pattern, maxItems, maxLength, required; a breach is a deny', () => {
  const p = policyOf({
    ...quiet,
    tools: {
      'billing.query': {
        args: {
          months: { min: 1, max: 24 },
          region: { enum: ['eu', 'us'] },
          customerId: { pattern: '^c-[0-9]+$', required: true },
          'filter.ids': { maxItems: 2 },
          note: { maxLength: 5 },
        },
      },
    },
  });
  const d = new Driver(p);
  const ok = { months: 12, region: 'eu', customerId: 'c-1', filter: { ids: [1, 2] }, note: 'hi' };
  assert.equal(d.peek(call('billing.query', ok)).verdict, 'allow');
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...ok, months: 0 }, /argument `months` of `billing.query` is 0: below the minimum 1/],
    [{ ...ok, months: 30 }, /is 30: above the maximum 24/],
    [{ ...ok, months: '12' }, /must be a number, got `"12"`/],
    [{ ...ok, region: 'ap' }, /is `"ap"`: not one of `"eu"`, `"us"`/],
    [{ ...ok, customerId: 'x' }, /does not match the pattern/],
    [{ ...ok, customerId: undefined }, /argument `customerId` of `billing.query` is required by policy/],
    [{ ...ok, filter: { ids: [1, 2, 3] } }, /argument `filter.ids` of `billing.query` has 3 items: above the maximum 2/],
    [{ ...ok, note: 'too long' }, /is 8 characters long: above the maximum 5/],
  ];
  for (const [args, message] of cases) {
    const r = d.peek(call('billing.query', args));
    assert.equal(r.verdict, 'deny', JSON.stringify(args));
    assert.equal(r.reasons[0]?.rule, 'args.bounds');
    assert.match(r.reasons[0]?.message ?? '', message);
  }
});

test('example policy: billing.summary months 1–24', () => {
  const d = new Driver(examplePolicy());
  assert.equal(d.peek(call('billing.summary', { customerId: 'c-1', months: 24 })).verdict, 'allow');
  const r = d.peek(call('billing.summary', { customerId: 'c-1', months: 36 }));
  assert.equal(r.verdict, 'deny');
  assert.deepEqual(rules(r), ['args.bounds']);
});

test('incident 1: a 14,200-row DELETE on production billing waits for approval with a blast-radius reason', () => {
  const d = new Driver(examplePolicy());
  const r = d.peek(call('billing.deleteRecords', { period: '2026-10', test: true }), { blastRadius: 14_200 });
  assert.equal(r.verdict, 'approve');
  assert.ok(rules(r).includes('blast-radius.limit'), rules(r).join());
  assert.ok(rules(r).includes('tier.destructive'));
  assert.match(r.reasons.find((x) => x.rule === 'blast-radius.limit')?.message ?? '', /would affect 14,200 rows or objects: above the limit of 100/);
  assert.ok(r.approval);
  assert.equal(r.approval.timeoutMs, 15 * 60_000);
  assert.equal(r.approval.unlocksTransition, false);
  assert.deepEqual(r.approval.groups, ['data-owners', 'sre-leads']);
  assert.deepEqual(r.approval.escalateAfterMs, [5 * 60_000]);
});

test('incident 1: above the hard cap of 50,000 rows the DELETE is denied outright', () => {
  const d = new Driver(examplePolicy());
  const r = d.peek(call('billing.deleteRecords', { period: '2026-10' }), { blastRadius: 50_001 });
  assert.equal(r.verdict, 'deny');
  assert.equal(r.reasons[0]?.rule, 'blast-radius.cap');
  assert.equal(approvalOf(r), undefined);
  assert.equal(unlockOf(r), undefined);
  assert.equal(d.peek(call('billing.deleteRecords'), { blastRadius: 50_000 }).verdict, 'approve');
});

test('blast radius: within the limit only the tier decides; a bounded tool without an estimate needs approval', () => {
  const p = policyOf({ ...quiet, tools: { 'billing.deleteRecords': { tier: 'autonomous', blastRadius: { approvalAbove: 100, denyAbove: 1000 } } } });
  const d = new Driver(p);
  assert.equal(d.peek(call('billing.deleteRecords'), { blastRadius: 100 }).verdict, 'allow');
  assert.deepEqual(rules(d.peek(call('billing.deleteRecords'), { blastRadius: 101 })), ['blast-radius.limit']);
  const unknown = d.peek(call('billing.deleteRecords'));
  assert.equal(unknown.verdict, 'approve');
  assert.deepEqual(rules(unknown), ['blast-radius.unknown']);
});

test('incident 2: volumes.list then volumes.unmount is denied as a forbidden transition, unlockable out of band', () => {
  const p = examplePolicy();
  const d = new Driver(p);
  assert.equal(d.run(call('volumes.list')).verdict, 'allow');
  const r = d.peek(call('volumes.unmount', { volumeId: 'vol-1' }));
  assert.equal(r.verdict, 'deny');
  assert.equal(r.reasons[0]?.rule, 'transition.forbidden');
  assert.match(r.reasons[0]?.message ?? '', /`volumes.list` then `volumes.unmount` is a forbidden transition/);
  assert.ok(r.unlock, 'the decision offers the out-of-band unlock');
  assert.equal(r.unlock.unlocksTransition, true);
  assert.deepEqual(r.unlock.groups, ['sre-leads']);
  assert.deepEqual(unlockRequirement(p, call('volumes.unmount')), r.unlock);
  // Once a human unlocked it, the call goes on to its ordinary approval (production write).
  const unlocked = d.peek(call('volumes.unmount', { volumeId: 'vol-1' }), { transitionUnlocked: true });
  assert.equal(unlocked.verdict, 'approve');
  assert.ok(rules(unlocked).includes('transition.unlocked'));
  // Without the list first, the unmount is an ordinary production write.
  assert.equal(new Driver(p).peek(call('volumes.unmount')).verdict, 'approve');
});

test('the other forbidden pairs of the example policy', () => {
  for (const [from, to] of [
    ['services.scale', 'env.modifyProduction'],
    ['secrets.rotate', 'services.restart'],
  ] as const) {
    // The example's document with room in the critical budget, so the session stays open.
    const doc = examplePolicy().document;
    const d = new Driver(policyOf({ ...doc, budget: { ...doc.budget, critical: 5 } }));
    assert.equal(d.run(call(from)).verdict, 'approve');
    const r = d.peek(call(to));
    assert.equal(r.verdict, 'deny', `${from} -> ${to}`);
    assert.equal(r.reasons[0]?.rule, 'transition.forbidden');
  }
});

test('a forbidden transition plus another hard deny offers no unlock', () => {
  const p = policyOf({ ...quiet, transitions: [{ from: 'volumes.list', to: 'volumes.unmount' }], tools: { 'volumes.unmount': { args: { volumeId: { required: true } } } } });
  const d = new Driver(p);
  d.run(call('volumes.list'));
  const r = d.peek(call('volumes.unmount'));
  assert.deepEqual(rules(r).slice(0, 2), ['args.bounds', 'transition.forbidden']);
  assert.equal(unlockOf(r), undefined);
});

test('approvers: rules by tool before rules by effect before the default; two approvers for volumes.delete', () => {
  const d = new Driver(examplePolicy());
  const del = d.peek(call('volumes.delete'));
  assert.equal(del.verdict, 'approve');
  assert.equal(del.approval?.approversRequired, 2);
  assert.deepEqual(del.approval?.groups, ['sre-leads']);
  assert.equal(del.approval?.fourEyes, true);
  const scale = d.peek(call('services.scale'));
  assert.deepEqual(approvalOf(scale)?.groups, ['on-call', 'sre-leads']);
  assert.equal(approvalOf(scale)?.channel, '#gatehouse-approvals');

  const p = policyOf({
    ...quiet,
    approvers: {
      groups: { a: [], b: [], c: [] },
      default: { groups: ['a'] },
      rules: [
        { effects: ['destructive'], groups: ['a', 'b', 'c'], timeoutMinutes: 30, channel: '#danger', fourEyes: false },
        { tools: ['volumes.*'], effects: ['destructive'], groups: ['c'], approversRequired: 2 },
      ],
    },
  });
  const d2 = new Driver(p);
  assert.deepEqual(approvalOf(d2.peek(call('volumes.delete')))?.groups, ['c']);
  const billing = approvalOf(d2.peek(call('billing.deleteRecords')));
  assert.deepEqual(billing?.groups, ['a', 'b', 'c']);
  assert.deepEqual(billing?.escalateAfterMs, [10 * 60_000, 20 * 60_000], 'steps spread evenly over the timeout');
  assert.equal(billing?.channel, '#danger');
  assert.equal(billing?.fourEyes, false);
  assert.deepEqual(approvalOf(d2.peek(call('services.scale')))?.groups, ['a']);
});

test('malformed proposals are denied with `proposal.malformed`', () => {
  const p = policyOf({});
  const s = initialSessionState(p, { startedAt: T0 });
  for (const bad of [null, 'x', 7, [], {}, { tool: '' }, { tool: 'billing.query' }, { tool: 'billing.query', args: [] }, { tool: 'billing.query', args: {}, reasoning: 5 }, { tool: 'billing.query', args: {}, reasoning: '', tokenCost: -1 }]) {
    const r = evaluate(p, s, bad as never, {}, T0);
    assert.equal(r.verdict, 'deny', JSON.stringify(bad));
    assert.deepEqual(rules(r), ['proposal.malformed']);
    assert.equal(r.policyHash, p.hash);
  }
  const badFacts = evaluate(p, s, call('billing.query'), { blastRadius: -3 }, T0);
  assert.deepEqual(rules(badFacts), ['proposal.malformed']);
  assert.deepEqual(rules(evaluate(p, s, call('billing.query'), {}, Number.NaN)), ['proposal.malformed']);
  assert.deepEqual(rules(evaluate(p, null as never, call('billing.query'), {}, T0)), ['engine.error']);
});

test('every decision carries the policy hash', () => {
  const p = examplePolicy();
  const d = new Driver(p);
  for (const t of ['billing.query', 'volumes.delete', 'audit.modify', 'no.such']) assert.equal(d.peek(call(t)).policyHash, p.hash);
});

test('shadow mode: a shadow rule is reported in decision.shadow and never enforced', () => {
  const p = policyOf({
    ...quiet,
    tools: { 'billing.query': { mode: 'shadow', tier: 'blocked' }, 'billing.summary': { mode: 'shadow', args: { months: { max: 12 } } } },
    alwaysBlocked: ['audit.*', { tool: 'staging.*', mode: 'shadow' }],
    transitions: [{ from: 'volumes.list', to: 'volumes.unmount', mode: 'shadow' }],
  });
  const d = new Driver(p);
  const q = d.peek(call('billing.query'));
  assert.equal(q.verdict, 'allow');
  assert.deepEqual(q.shadow, { verdict: 'deny', reasons: [{ rule: 'tool.tier', message: 'read tool `billing.query` on production is blocked (per-tool override)' }] });
  const s = d.peek(call('billing.summary', { months: 20 }));
  assert.equal(s.verdict, 'allow');
  assert.equal(s.shadow?.verdict, 'deny');
  assert.equal(d.peek(call('staging.writeConfig')).verdict, 'allow');
  assert.equal(d.peek(call('staging.writeConfig')).shadow?.reasons[0]?.rule, 'tool.always-blocked');
  d.run(call('volumes.list'));
  const u = d.peek(call('volumes.unmount'));
  assert.equal(u.verdict, 'approve');
  assert.equal(u.shadow?.verdict, 'deny');
  assert.deepEqual(u.shadow?.reasons.map((r) => r.rule), ['transition.forbidden']);
  // A policy with no shadow rule carries no shadow finding.
  assert.equal(new Driver(policyOf({})).peek(call('billing.query')).shadow, undefined);
});

test('a shadow policy enforces only the floor (unknown tools, always-blocked, closed sessions)', () => {
  const p = policyOf({ ...quiet, mode: 'shadow' });
  const d = new Driver(p);
  const del = d.peek(call('volumes.delete'));
  assert.equal(del.verdict, 'allow');
  assert.equal(del.shadow?.verdict, 'approve');
  assert.equal(d.peek(call('audit.modify')).verdict, 'deny');
  assert.equal(d.peek(call('nope')).verdict, 'deny');
});
