/**
 * The gate's decisions word for word (`policies/gate.ts`), the rule catalogue (`rules.ts`), reading
 * a decision (`decision.ts`) and tool-name globs (`glob.ts`): each branch with a test that fails
 * without it. Pure and fast.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  admitProposal,
  approvalGroupMembers,
  approvalOf,
  callDigest,
  callDigestOver,
  crossSessionDenial,
  enforcedTier,
  gateProposal,
  invalidArguments,
  isRuleId,
  raisesAlert,
  recheckApproved,
  refusal,
  RULES,
  stateDigest,
  toolTier,
  unlockOf,
  withLedgerShadow,
  type Decision,
  type LedgerResult,
} from '../../policies';
import { compileGlob, isGlob, matchesAny } from '../../policies/glob';
import { call, Driver, examplePolicy, policyOf, rules, T0 } from './fixtures';

const open = { halted: false, sessionId: 's1' };
const quiet = { budget: { actions: 1000, writes: 1000, critical: 1000 } };

test('refusal and the tiers a tool is held to', () => {
  assert.deepEqual(refusal('h', 'tool.args', 'no'), { verdict: 'deny', tier: 'blocked', reasons: [{ rule: 'tool.args', message: 'no' }], policyHash: 'h' });
  const p = policyOf({ ...quiet, alwaysBlocked: [{ tool: 'audit.*', mode: 'shadow' }] });
  assert.equal(toolTier(p, 'volumes.delete'), 'approval');
  assert.equal(enforcedTier(p, 'audit.modify'), 'approval', 'a shadow always-blocked entry does not block');
  assert.equal(enforcedTier(p, 'no.such'), 'blocked');
});

test('admission and invalid arguments word for word', () => {
  const p = examplePolicy();
  const d = new Driver(p);
  assert.deepEqual(admitProposal(p, d.state, call('no.such'), { halted: true, sessionId: 'abc' }, T0)?.reasons, [{ rule: 'session.halted', message: 'session `abc` was halted' }], 'halted before anything else');
  assert.equal(invalidArguments(p, 'volumes.unmount', { path: '', message: 'Expected object' }).reasons[0]?.message, 'invalid arguments for tool `volumes.unmount`: (root): Expected object');
  assert.equal(invalidArguments(p, 'no.such', undefined).tier, 'blocked');
});

test('gateProposal: an allowed or approved call, or a deny without an unlock, is evaluate\'s decision; an unlocked call that is otherwise free needs only the unlock', () => {
  const p = policyOf({ ...quiet, tiers: { write: { default: 'autonomous' } }, transitions: [{ from: 'volumes.list', to: 'volumes.unmount' }] });
  const d = new Driver(p);
  const free = gateProposal(p, d.state, call('volumes.unmount'), { blastRadius: 1 }, true, T0);
  assert.deepEqual([free.decision.verdict, free.facts], ['allow', { blastRadius: 1 }]);
  assert.deepEqual(gateProposal(p, d.state, call('volumes.delete'), {}, true, T0).decision.verdict, 'approve');
  assert.deepEqual(gateProposal(p, d.state, call('audit.modify'), {}, true, T0).facts, {}, 'a deny without an unlock is not asked again');
  d.run(call('volumes.list'));
  const asked = gateProposal(p, d.state, call('volumes.unmount'), {}, true, T0);
  assert.equal(asked.decision.verdict, 'approve');
  assert.deepEqual(rules(asked.decision), ['transition.forbidden', 'transition.unlock']);
  assert.deepEqual(asked.decision.reasons.at(-1), { rule: 'transition.unlock', message: 'the agent asked for an out-of-band unlock of this forbidden transition' });
  assert.equal(asked.decision.approval?.alsoRequired, undefined, 'its own gate allows: nothing else to agree');
  assert.equal(asked.decision.approval?.unlocksTransition, true);
  const notAsked = gateProposal(p, d.state, call('volumes.unmount'), {}, false, T0);
  assert.deepEqual([notAsked.decision.verdict, notAsked.facts], ['deny', {}]);
});

test('digests: callDigest is callDigestOver the state\'s digest; every part counts', () => {
  const base = callDigest('t', { a: 1 }, 'h', { s: 1 });
  assert.equal(base, callDigestOver('t', { a: 1 }, 'h', stateDigest({ s: 1 })));
  assert.match(base, /^[0-9a-f]{64}$/);
  const others = [callDigest('u', { a: 1 }, 'h', { s: 1 }), callDigest('t', { a: 2 }, 'h', { s: 1 }), callDigest('t', { a: 1 }, 'g', { s: 1 }), callDigest('t', { a: 1 }, 'h', { s: 2 })];
  assert.equal(new Set([base, ...others]).size, 5);
  assert.equal(callDigest('t', { b: 1, a: 2 }, 'h', {}), callDigest('t', { a: 2, b: 1 }, 'h', {}), 'canonical: key order does not count');
});

test('recheckApproved word for word: halted, stale, grown (unmeasured, above the cap), insufficient; equal blast radius and enough approvers run', () => {
  const p = examplePolicy();
  const d = new Driver(p);
  const del = call('billing.deleteRecords', { period: '2026-10' });
  const gated = gateProposal(p, d.state, del, { blastRadius: 200 }, false, T0);
  const requirement = approvalOf(gated.decision)!;
  const approved = { digest: callDigest(del.tool, del.args, p.hash, d.state), requirement, approvers: requirement.approversRequired, blastRadius: 200 };
  const check = (facts: { blastRadius?: number }, a = approved, halted = false) => recheckApproved(p, d.state, del, facts, a, { halted, sessionId: 's9' }, T0);
  assert.deepEqual(check({ blastRadius: 200 }, approved, true).reasons, [{ rule: 'session.halted', message: 'session `s9` was halted before the approved call ran' }]);
  assert.deepEqual(check({ blastRadius: 200 }, { ...approved, digest: 'x' }).reasons, [{ rule: 'approval.stale', message: 'the session changed after the approval was requested: the approved call no longer matches' }]);
  const grown = check({ blastRadius: 60_000 });
  assert.deepEqual([grown.tier, grown.reasons], ['approval', [{ rule: 'blast-radius.grown', message: 'the blast radius is now 60000, above the cap of 50000; 200 was approved' }]]);
  assert.equal(check({ blastRadius: 50_000 }).reasons[0]?.message, 'the blast radius is now 50000; 200 was approved');
  assert.equal(check({}).reasons[0]?.message, 'the blast radius could not be measured again; 200 was approved');
  const ran = check({ blastRadius: 200 });
  assert.deepEqual([ran.verdict, rules(ran)], ['allow', rules(gated.decision)]);
  // The call now needs two approvers: one approver is not enough, two given are, and so is a requirement of two.
  const two = { ...approved, approvers: 1, requirement: { ...requirement, approversRequired: 1 } };
  const stricter = policyOf({ ...p.document, approvers: { ...p.document.approvers, default: { ...p.document.approvers.default, approversRequired: 2 }, rules: [] } });
  const digest2 = callDigest(del.tool, del.args, stricter.hash, d.state);
  const again = (a: typeof two) => recheckApproved(stricter, d.state, del, { blastRadius: 200 }, { ...a, digest: digest2 }, open, T0);
  assert.deepEqual(again(two).reasons, [{ rule: 'approval.insufficient', message: 'the call now needs 2 approvers' }]);
  assert.equal(again({ ...two, approvers: 2 }).verdict, 'allow');
  assert.equal(again({ ...two, requirement: { ...requirement, approversRequired: 2 } }).verdict, 'allow');
  assert.equal(check({ blastRadius: 50_001 }).reasons[0]?.rule, 'blast-radius.grown', 'grown is checked before the policy denies the cap');
});

test('approvalGroupMembers: each group named, an unknown one empty, copies', () => {
  const p = policyOf({ approvers: { groups: { a: ['x', 'y'] }, default: { groups: ['a'] } } });
  const members = approvalGroupMembers(p, ['a', 'b']);
  assert.deepEqual(members, { a: ['x', 'y'], b: [] });
  assert.notEqual(members.a, p.document.approvers.groups.a);
});

test('ledger answers: a denial names every ledger\'s reasons in the tool\'s tier; shadow findings join the decision\'s own', () => {
  const p = examplePolicy();
  const allow: LedgerResult = { verdict: 'allow', reasons: [], reservationId: 'r', requestDigest: 'd' };
  const deny = (rule: 'agent.budget' | 'owner.budget'): LedgerResult => ({ verdict: 'deny', reasons: [{ rule, message: rule }], reservationId: 'r', requestDigest: 'd' });
  assert.deepEqual(crossSessionDenial(p, 'volumes.delete', [deny('agent.budget'), allow, deny('owner.budget')]), { verdict: 'deny', tier: 'approval', reasons: [{ rule: 'agent.budget', message: 'agent.budget' }, { rule: 'owner.budget', message: 'owner.budget' }], policyHash: p.hash });
  assert.equal(crossSessionDenial(p, 'volumes.delete', [allow, allow]), undefined);
  assert.deepEqual(crossSessionDenial(p, 'volumes.delete', [allow], 'a timeout'), { verdict: 'deny', tier: 'approval', reasons: [{ rule: 'ledger.unavailable', message: 'the cross-session ledger did not answer: a timeout' }], policyHash: p.hash });
  const decided: Decision = { verdict: 'allow', tier: 'autonomous', reasons: [], policyHash: 'h', shadow: { verdict: 'approve', reasons: [{ rule: 'intent.review', message: 'i' }] } };
  const loud = { ...allow, shadow: [{ rule: 'agent.budget' as const, message: 'b' }] };
  assert.deepEqual(withLedgerShadow(decided, [allow, loud]).shadow, { verdict: 'deny', reasons: [{ rule: 'intent.review', message: 'i' }, { rule: 'agent.budget', message: 'b' }] });
  assert.equal(withLedgerShadow(decided, [allow]), decided);
});

test('the catalogue: every rule says what it means in one lower-case phrase; only catalogued ids are rules', () => {
  for (const [id, entry] of Object.entries(RULES)) {
    assert.match(entry.means, /^[a-z`].{9,}[^.]$/, id);
    assert.equal(isRuleId(id), true);
  }
  for (const id of ['toString', '__proto__', 'constructor', '', 'tool']) assert.equal(isRuleId(id), false, id);
  assert.equal(raisesAlert('hasOwnProperty'), false);
});

test('approvalOf and unlockOf read only the verdict they belong to', () => {
  const req = { groups: ['a'] } as never;
  assert.equal(approvalOf({ verdict: 'approve', tier: 'approval', reasons: [], policyHash: 'h', approval: req }), req);
  assert.equal(approvalOf({ verdict: 'deny', tier: 'approval', reasons: [], policyHash: 'h', approval: req } as never), undefined);
  assert.equal(unlockOf({ verdict: 'deny', tier: 'approval', reasons: [], policyHash: 'h', unlock: req }), req);
  assert.equal(unlockOf({ verdict: 'approve', tier: 'approval', reasons: [], policyHash: 'h', unlock: req } as never), undefined);
});

test('globs: `*` any run (dots and newlines too), `?` exactly one, everything else literal and anchored', () => {
  const m = (pattern: string, name: string) => compileGlob(pattern).test(name);
  assert.deepEqual([isGlob('a.b'), isGlob('a*'), isGlob('a?')], [false, true, true]);
  assert.deepEqual([m('a.b', 'a.b'), m('a.b', 'aXb'), m('a.b', 'a.bc')], [true, false, false]);
  assert.deepEqual([m('a.*', 'a.b.c'), m('a.*', 'aXb'), m('a.*', 'xa.b'), m('*.delete', 'x.delete'), m('*.delete', 'x.deleteAll')], [true, false, false, true, false]);
  assert.deepEqual([m('a?c', 'abc'), m('a?c', 'ac'), m('a?c', 'abbc')], [true, false, false]);
  assert.equal(m('a*', 'a\nb'), true, 'a newline is a character like any other');
  for (const special of ['+', '^', '$', '{', '}', '(', ')', '|', '[', ']', '\\', '/', '-']) {
    assert.equal(m(`x${special}y*`, `x${special}yz`), true, special);
    assert.equal(m(`x${special}y*`, 'xxyz'), false, special);
  }
  assert.equal(m('x[ab]*', 'xa'), false, 'a bracket is no character class');
  assert.equal(compileGlob('k.*').source, 'k.*');
  assert.equal(compileGlob('k.*'), compileGlob('k.*'), 'compiled once');
  assert.deepEqual([matchesAny([], 'a'), matchesAny([compileGlob('b'), compileGlob('a*')], 'ab'), matchesAny([compileGlob('b')], 'a')], [false, true, false]);
});

test('the compiled-glob cache: one object per pattern until 1,000 patterns are held, then it starts over', () => {
  let anchor = compileGlob('anchor.*');
  let i = 0;
  /** Compiles one new pattern; true when that emptied the cache (`anchor.*` is compiled again). */
  const newPatternClears = () => {
    compileGlob(`fill-${i++}.*`);
    const now = compileGlob('anchor.*');
    const cleared = now !== anchor;
    anchor = now;
    return cleared;
  };
  for (let n = 0; !newPatternClears(); n++) if (n > 2_000) assert.fail('the cache was never emptied');
  // Just emptied: it holds the pattern that emptied it and `anchor.*`; 998 more fit, the next one empties it.
  for (let k = 0; k < 998; k++) assert.equal(newPatternClears(), false, `pattern ${k}`);
  assert.equal(newPatternClears(), true);
  // More patterns than the cache holds: every one still answers the same.
  for (let p = 0; p < 1_100; p++) assert.equal(compileGlob(`p${p}.*`).test(`p${p}.x`), true);
  assert.equal(compileGlob('p0.*').test('p1.x'), false);
});

test('edges the other tests pass by: an unlocked call its own gate holds keeps its own reasons; a recheck the policy now denies is that denial; an allowing ledger\'s reasons deny nothing', () => {
  const p = policyOf({ ...quiet, transitions: [{ from: 'volumes.list', to: 'volumes.unmount' }] });
  const d = new Driver(p);
  d.run(call('volumes.list'));
  const asked = gateProposal(p, d.state, call('volumes.unmount'), {}, true, T0);
  assert.deepEqual([asked.decision.verdict, rules(asked.decision)], ['approve', ['transition.forbidden', 'tier.write', 'tier.write', 'transition.unlocked', 'transition.unlock']]);
  assert.deepEqual(approvalOf(asked.decision)?.alsoRequired, approvalOf(gateProposal(p, new Driver(p).state, call('volumes.unmount'), {}, false, T0).decision), 'its own approvers must agree too');
  const e = examplePolicy();
  const closed = { ...new Driver(e).state, closed: true };
  const del = call('billing.deleteRecords', { period: '2026-10' });
  const requirement = { groups: ['sre'], approversRequired: 1 } as never;
  const again = recheckApproved(e, closed, del, { blastRadius: 1 }, { digest: callDigest(del.tool, del.args, e.hash, closed), requirement, approvers: 1 }, open, T0);
  assert.deepEqual([again.verdict, again.reasons[0]?.rule], ['deny', 'session.closed']);
  const talkative: LedgerResult = { verdict: 'allow', reasons: [{ rule: 'agent.budget', message: 'noted' }], reservationId: 'r', requestDigest: 'd' };
  assert.equal(crossSessionDenial(e, 'volumes.delete', [talkative]), undefined);
});
