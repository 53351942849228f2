/**
 * The decisions the session workflow takes around `evaluate` (`policies/gate.ts`,
 * `policies/sub-agents.ts`) and the rule catalogue (`policies/rules.ts`), tested pure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  admitProposal,
  callDigest,
  childStart,
  compilePolicy,
  enforcedTier,
  evaluate,
  gateProposal,
  invalidArguments,
  raisesAlert,
  recheckApproved,
  RULES,
  spawnAdmission,
  spawnDecision,
  toolTier,
  withIntentScore,
} from '../../policies';
import { call, Driver, examplePolicy, rules, T0, TOOLS } from './fixtures';

const open = { halted: false, sessionId: 's1' };

test('admission: a halted session refuses everything; an unknown tool is the engine\'s own tool.unknown', () => {
  const p = examplePolicy();
  const d = new Driver(p);
  const halted = admitProposal(p, d.state, call('volumes.list'), { halted: true, sessionId: 's1' }, T0);
  assert.deepEqual(halted && rules(halted), ['session.halted']);
  assert.equal(halted?.verdict, 'deny');
  const unknown = admitProposal(p, d.state, call('db.dropEverything'), open, T0);
  assert.equal(unknown?.verdict, 'deny');
  assert.deepEqual(unknown?.reasons, [{ rule: 'tool.unknown', message: 'tool `db.dropEverything` is not in the catalog; unknown tools are denied' }]);
  assert.equal(admitProposal(p, d.state, call('volumes.list'), open, T0), undefined);
});

test('arguments the schema rejects are denied in the tool\'s own tier, naming the first problem', () => {
  const p = examplePolicy();
  const d = invalidArguments(p, 'volumes.unmount', { path: 'volumeId', message: 'Required' });
  assert.equal(d.tier, toolTier(p, 'volumes.unmount'));
  assert.equal(d.tier, 'approval');
  assert.deepEqual(d.reasons, [{ rule: 'tool.args', message: 'invalid arguments for tool `volumes.unmount`: volumeId: Required' }]);
  assert.equal(invalidArguments(p, 'volumes.unmount', undefined).reasons[0]?.message, 'invalid arguments for tool `volumes.unmount`: rejected by the schema');
  assert.equal(toolTier(p, 'no.such.tool'), 'blocked');
});

test('an unlock is asked only when the agent asks, and keeps the call\'s own approval as well', () => {
  const p = examplePolicy();
  const d = new Driver(p);
  d.run(call('volumes.list'));
  const unmount = call('volumes.unmount', { volumeId: 'vol-1' });
  const plain = gateProposal(p, d.state, unmount, {}, false, T0);
  assert.equal(plain.decision.verdict, 'deny');
  assert.deepEqual(rules(plain.decision), ['transition.forbidden', 'tier.write', 'budget.critical']);
  assert.deepEqual(plain.facts, {});

  const asked = gateProposal(p, d.state, unmount, {}, true, T0);
  assert.equal(asked.decision.verdict, 'approve');
  assert.equal(asked.decision.tier, 'approval');
  assert.deepEqual(asked.facts, { transitionUnlocked: true });
  assert.equal(rules(asked.decision).at(-1), 'transition.unlock');
  assert.equal(asked.decision.approval?.unlocksTransition, true);
  assert.deepEqual(asked.decision.approval?.groups, ['sre-leads']);
  // volumes.unmount is a production write: its own approvers must agree too.
  assert.equal(asked.decision.approval?.alsoRequired?.unlocksTransition, false);
});

test('an unlock asked for a call that is denied for another reason stays denied', () => {
  const p = examplePolicy();
  const d = new Driver(p, { budget: { writes: 0 } });
  d.run(call('volumes.list'));
  const asked = gateProposal(p, d.state, call('volumes.unmount', { volumeId: 'vol-1' }), {}, true, T0);
  assert.equal(asked.decision.verdict, 'deny');
  assert.ok(rules(asked.decision).includes('budget.writes'));
  assert.ok(!rules(asked.decision).includes('transition.unlock'));
});

test('re-check after approval: halted, changed or needing more approvers is denied; else allowed', () => {
  const p = examplePolicy();
  const d = new Driver(p);
  const scale = call('services.scale', { service: 'api', replicas: 3 });
  const gated = gateProposal(p, d.state, scale, {}, false, T0);
  assert.equal(gated.decision.verdict, 'approve');
  const requirement = gated.decision.approval!;
  const approved = { digest: callDigest(scale.tool, scale.args, p.hash, d.state), requirement, approvers: requirement.approversRequired };

  const ok = recheckApproved(p, d.state, scale, gated.facts, approved, open, T0);
  assert.equal(ok.verdict, 'allow');
  assert.equal(ok.tier, 'approval');

  const halted = recheckApproved(p, d.state, scale, gated.facts, approved, { halted: true, sessionId: 's1' }, T0);
  assert.deepEqual(rules(halted), ['session.halted']);

  const moved = withIntentScore(d.state, 0.9);
  assert.deepEqual(rules(recheckApproved(p, moved, scale, gated.facts, approved, open, T0)), ['approval.stale']);

  const fewer = { ...approved, requirement: { ...requirement, approversRequired: 0 }, approvers: 0 };
  const insufficient = recheckApproved(p, d.state, scale, gated.facts, fewer, open, T0);
  assert.deepEqual(rules(insufficient), ['approval.insufficient']);
});

test('re-check after approval with the blast radius measured again: more than approved is denied (blast-radius.grown)', () => {
  const p = examplePolicy();
  const d = new Driver(p);
  const del = call('billing.deleteRecords', { period: '2026-10', testOnly: true });
  const gated = gateProposal(p, d.state, del, { blastRadius: 14_237 }, false, T0);
  assert.equal(gated.decision.verdict, 'approve');
  const requirement = gated.decision.approval!;
  const approved = { digest: callDigest(del.tool, del.args, p.hash, d.state), requirement, approvers: requirement.approversRequired, blastRadius: 14_237 };

  assert.equal(recheckApproved(p, d.state, del, { blastRadius: 14_237 }, approved, open, T0).verdict, 'allow');
  assert.equal(recheckApproved(p, d.state, del, { blastRadius: 100 }, approved, open, T0).verdict, 'allow', 'fewer rows than approved may run');
  const grown = recheckApproved(p, d.state, del, { blastRadius: 14_242 }, approved, open, T0);
  assert.deepEqual(rules(grown), ['blast-radius.grown']);
  assert.equal(grown.reasons[0]?.message, 'the blast radius is now 14242; 14237 was approved');
  const unmeasured = recheckApproved(p, d.state, del, {}, approved, open, T0);
  assert.deepEqual(rules(unmeasured), ['blast-radius.grown']);
  // Without a first estimate to compare (a session recorded before the re-measure), nothing changes.
  const { blastRadius: _ignored, ...old } = approved;
  assert.equal(recheckApproved(p, d.state, del, { blastRadius: 14_242 }, old, open, T0).verdict, 'allow');
  assert.equal(raisesAlert('blast-radius.grown'), true);
});

test('sub-agents: refused when halted or not normal; approval below the intent threshold; the share leaves the parent', () => {
  const p = examplePolicy();
  const d = new Driver(p);
  assert.deepEqual(rules(spawnAdmission(p, { sessionId: 's1', halted: true, mode: 'normal' })!), ['session.halted']);
  assert.deepEqual(rules(spawnAdmission(p, { sessionId: 's1', halted: false, mode: 'read-only' })!), ['session.mode']);
  assert.equal(spawnAdmission(p, { sessionId: 's1', halted: false, mode: 'normal' }), undefined);

  const threshold = p.intent.reviewBelow;
  assert.equal(spawnDecision(p, threshold).verdict, 'allow');
  const far = spawnDecision(p, threshold - 0.01);
  assert.equal(far.verdict, 'approve');
  assert.deepEqual(rules(far), ['intent.child']);
  assert.deepEqual(far.approval?.groups, p.document.approvers.default.groups);

  const start = childStart(p, d.state, T0);
  assert.equal(start.parentState.limits.actions, d.state.limits.actions - start.share.actions);
  assert.equal(start.parentState.limits.writes, d.state.limits.writes - start.share.writes);
  assert.ok(start.share.actions > 0);
});

test('the catalogue marks exactly the denials a human should look at', () => {
  const alerting = Object.keys(RULES).filter(raisesAlert).sort();
  assert.deepEqual(alerting, [
    'agent.budget', 'agent.sequence', 'approval.conflict', 'args.bounds', 'blast-radius.cap', 'blast-radius.grown', 'blast-radius.limit', 'budget.actions', 'budget.critical', 'budget.writes',
    'cost.cap', 'engine.error', 'intent.unscored', 'ledger.conflict', 'ledger.full', 'ledger.stale', 'ledger.unavailable', 'mandate.outside', 'owner.budget', 'owner.sequence',
    'resource.unclassified', 'tool.always-blocked', 'transition.forbidden', 'tree.conflict', 'tree.sequence', 'tree.unavailable',
  ]);
  assert.equal(raisesAlert('rate.tool'), false);
  assert.equal(raisesAlert('not.a-rule'), false);
});

test('enforcedTier is the tier evaluate holds a fresh call to: blocked never runs, approval always waits; a shadow policy enforces only always-blocked', () => {
  const enforced = examplePolicy();
  const shadow = compilePolicy({ ...enforced.document, mode: 'shadow' }, TOOLS);
  for (const p of [enforced, shadow]) {
    const d = new Driver(p);
    for (const t of [...TOOLS.map((i) => i.name), 'db.dropEverything', 'audit.rewrite']) {
      const tier = enforcedTier(p, t);
      const verdict = evaluate(p, d.state, call(t), {}, T0).verdict;
      if (tier === 'blocked') assert.equal(verdict, 'deny', `${p.document.mode ?? 'enforce'} ${t}`);
      if (tier === 'approval') assert.notEqual(verdict, 'allow', `${p.document.mode ?? 'enforce'} ${t}`);
    }
  }
  assert.equal(enforcedTier(enforced, 'billing.deleteRecords'), 'approval');
  assert.equal(enforcedTier(shadow, 'billing.deleteRecords'), 'autonomous');
  assert.equal(enforcedTier(shadow, 'audit.modify'), 'blocked');
  assert.equal(enforcedTier(enforced, 'db.dropEverything'), 'blocked');
});
