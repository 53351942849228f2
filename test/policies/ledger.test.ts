/**
 * The cross-session ledger's pure decision (`policies/ledger.ts`) and its document section:
 * sliding-window budgets, cross-session transitions, retries by reservation id, conflicts, bounds,
 * and what a request with other rules cannot change. fast-check for the budget property.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  answerFor,
  compilePolicy,
  crossSessionDenial,
  withLedgerShadow,
  emptyLedger,
  ledgerRequestProblem,
  ledgerRules,
  parsePolicy,
  pruneLedger,
  reserve,
  MAX_RESERVATIONS,
  MAX_RULE_ENTRIES,
  RESERVATION_SKEW_MS,
  requestDigest,
  type LedgerRequest,
  type LedgerResult,
  type Decision,
  type LedgerRule,
  type LedgerState,
} from '../../policies';
import { MINUTE, T0, TOOLS } from './fixtures';

const BUDGET: LedgerRule = { kind: 'budget', id: 'deletes', tools: ['billing.delete*'], max: 3, windowMs: 60 * MINUTE };
const SEQ: LedgerRule = { kind: 'transition', id: 'list -> unmount', from: 'volumes.list', to: 'volumes.unmount', withinMs: 30 * MINUTE };

function req(n: number, tool: string, rules: readonly LedgerRule[] = [BUDGET, SEQ], session = 's1'): LedgerRequest {
  return { reservationId: `${session}:p${n}`, sessionId: session, tool, rules };
}

/** Folds requests at the given times; returns the verdicts and the final state. */
function run(steps: readonly { r: LedgerRequest; at: number }[], start: LedgerState = emptyLedger()) {
  let state = start;
  const verdicts: string[] = [];
  for (const { r, at } of steps) {
    const out = reserve(state, r, 'agent', at);
    state = out.state;
    verdicts.push(out.result.verdict);
  }
  return { state, verdicts };
}

test('the document section parses with defaults and compiles onto the tools it names only', () => {
  const parsed = parsePolicy({
    agent: { budgets: [{ tools: ['billing.delete*'], max: 20, windowMinutes: 60 }], transitions: [{ from: 'volumes.list', to: 'volumes.unmount', within: { minutes: 30 } }] },
    owner: { budgets: [{ id: 'owner-deletes', tools: ['billing.delete*'], max: 50, windowMinutes: 60 }] },
  });
  assert.ok(parsed.success, JSON.stringify(!parsed.success && parsed.issues));
  const policy = compilePolicy(parsed.data, TOOLS);
  assert.deepEqual(policy.tools.get('billing.deleteRecords')?.crossSession?.agent?.map((r) => r.id), ['billing.delete*']);
  assert.deepEqual(policy.tools.get('billing.deleteRecords')?.crossSession?.owner?.map((r) => r.id), ['owner-deletes']);
  assert.deepEqual(policy.tools.get('volumes.unmount')?.crossSession?.agent?.map((r) => r.id), ['volumes.list -> volumes.unmount']);
  assert.equal(policy.tools.get('billing.summary')?.crossSession, undefined, 'a tool in no rule asks no ledger');
  assert.deepEqual(ledgerRules(parsed.data.agent)[0], { kind: 'budget', id: 'billing.delete*', tools: ['billing.delete*'], max: 20, windowMs: 60 * MINUTE });
});

test('a document without the sections keeps its hash; a shadow policy asks no ledger', () => {
  const plain = parsePolicy({});
  assert.ok(plain.success);
  assert.equal(Object.hasOwn(plain.data, 'agent'), false);
  const shadow = parsePolicy({ mode: 'shadow', agent: { budgets: [{ tools: ['volumes.list'], max: 1, windowMinutes: 5 }] } });
  assert.ok(shadow.success);
  assert.equal(compilePolicy(shadow.data, TOOLS).tools.get('volumes.list')?.crossSession, undefined);
});

test('a broken section is a structured error with its path', () => {
  const r = parsePolicy({ agent: { budgets: [{ tools: [], max: 'lots', windowMinutes: 0 }], transitions: [{ from: 'a', to: 'b' }], colour: 1 } });
  assert.equal(r.success, false);
  const paths = r.success ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
  assert.ok(paths.some((p) => p.startsWith('agent.budgets[0].tools: expected at least one tool')), paths.join('\n'));
  assert.ok(paths.some((p) => p.startsWith('agent.budgets[0].max: expected a whole number')), paths.join('\n'));
  assert.ok(paths.some((p) => p.startsWith('agent.budgets[0].windowMinutes: expected a number of minutes')), paths.join('\n'));
  assert.ok(paths.some((p) => p.startsWith('agent.transitions[0].within')), paths.join('\n'));
  assert.ok(paths.some((p) => p.includes('colour')), paths.join('\n'));
});

test('a budget allows exactly max inside the window, then frees up as the window slides', () => {
  const steps = [0, 1, 2, 3].map((i) => ({ r: req(i, 'billing.deleteRecords'), at: T0 + i * MINUTE }));
  const { state, verdicts } = run(steps);
  assert.deepEqual(verdicts, ['allow', 'allow', 'allow', 'deny']);
  const denied = reserve(state, req(9, 'billing.deleteRecords'), 'agent', T0 + 30 * MINUTE);
  assert.equal(denied.result.reasons[0]?.rule, 'agent.budget');
  assert.match(denied.result.reasons[0]?.message ?? '', /across this agent's sessions: the limit is 3/);
  // The first call leaves the window 60 minutes after it ran.
  assert.equal(reserve(state, req(10, 'billing.deleteRecords'), 'agent', T0 + 60 * MINUTE).result.verdict, 'allow');
  assert.equal(reserve(state, req(11, 'billing.deleteRecords'), 'owner', T0 + 30 * MINUTE).result.reasons[0]?.rule, 'owner.budget');
});

test('a transition across sessions: `from` in one session, `to` in another is denied within the window', () => {
  const { state } = run([{ r: req(1, 'volumes.list', [BUDGET, SEQ], 'a'), at: T0 }]);
  const next = reserve(state, req(1, 'volumes.unmount', [BUDGET, SEQ], 'b'), 'agent', T0 + 10 * MINUTE);
  assert.equal(next.result.verdict, 'deny');
  assert.equal(next.result.reasons[0]?.rule, 'agent.sequence');
  assert.equal(reserve(state, req(2, 'volumes.unmount', [BUDGET, SEQ], 'b'), 'agent', T0 + 31 * MINUTE).result.verdict, 'allow');
  // `to` first, then `from`: not the forbidden order.
  assert.deepEqual(run([{ r: req(1, 'volumes.unmount'), at: T0 }, { r: req(2, 'volumes.list'), at: T0 + MINUTE }]).verdicts, ['allow', 'allow']);
});

test('a retry of the same reservation gets the same answer and counts once; another request under the id is a conflict', () => {
  const first = reserve(emptyLedger(), req(1, 'billing.deleteRecords'), 'agent', T0);
  const again = reserve(first.state, req(1, 'billing.deleteRecords'), 'agent', T0 + MINUTE);
  assert.deepEqual(again.result, first.result);
  assert.equal(again.state, first.state, 'nothing recorded twice');
  const forged = reserve(first.state, { ...req(1, 'billing.summary'), rules: [] }, 'agent', T0 + MINUTE);
  assert.equal(forged.result.verdict, 'deny');
  assert.equal(forged.result.reasons[0]?.rule, 'ledger.conflict');
});

test('answerFor refuses an answer that is not for the request (an update id used first by someone else)', () => {
  const genuine = req(1, 'volumes.unmount');
  const squatted = reserve(emptyLedger(), { ...genuine, tool: 'volumes.list', rules: [] }, 'agent', T0).result;
  const checked = answerFor(genuine, squatted);
  assert.equal(checked.verdict, 'deny');
  assert.equal(checked.reasons[0]?.rule, 'ledger.conflict');
  const honest = reserve(emptyLedger(), genuine, 'agent', T0).result;
  assert.equal(answerFor(genuine, honest), honest);
});

test('requests with other rules count in other entries: they never free the genuine budget', () => {
  const loose: LedgerRule = { ...BUDGET, max: 1_000_000 };
  let { state } = run([0, 1, 2].map((i) => ({ r: req(i, 'billing.deleteRecords'), at: T0 + i })));
  for (let i = 0; i < 50; i++) state = reserve(state, { ...req(100 + i, 'billing.deleteRecords', [loose], 'forger'), rules: [loose] }, 'agent', T0 + 10).state;
  // The genuine rule marked shadow is another rule too: it neither frees nor loosens the enforced one.
  const shadowed: LedgerRule = { ...BUDGET, mode: 'shadow' };
  for (let i = 0; i < 5; i++) state = reserve(state, req(200 + i, 'billing.deleteRecords', [shadowed], 'forger'), 'agent', T0 + 11).state;
  assert.equal(reserve(state, req(3, 'billing.deleteRecords'), 'agent', T0 + 20).result.verdict, 'deny');
});

test('bounded: the dedup table, expired entries and the number of rule entries', () => {
  let state = emptyLedger();
  for (let i = 0; i < MAX_RESERVATIONS + 10; i++) state = reserve(state, req(i, 'billing.summary', []), 'agent', T0).state;
  assert.equal(state.order.length, MAX_RESERVATIONS);
  assert.equal(Object.keys(state.reservations).length, MAX_RESERVATIONS);
  state = run([{ r: req(1, 'billing.deleteRecords'), at: T0 }, { r: req(2, 'volumes.list'), at: T0 }]).state;
  const pruned = pruneLedger(state, T0 + 61 * MINUTE);
  assert.deepEqual(pruned.budgets, {});
  assert.deepEqual(pruned.transitions, {});
  // Full of other rules: a new rule is denied closed, nothing is evicted.
  let full = emptyLedger();
  for (let i = 0; i < MAX_RULE_ENTRIES; i++) full = reserve(full, req(i, 'x', [{ kind: 'budget', id: `r${i}`, tools: ['x'], max: 5, windowMs: 60 * MINUTE }], 'f'), 'agent', T0).state;
  const refused = reserve(full, req(1, 'billing.deleteRecords'), 'agent', T0 + 1);
  assert.equal(refused.result.reasons[0]?.rule, 'ledger.full');
  assert.equal(Object.keys(refused.state.budgets).length, MAX_RULE_ENTRIES);
});

test('the validator refuses what is not a reservation request', () => {
  assert.equal(ledgerRequestProblem(req(1, 'volumes.list')), undefined);
  assert.match(ledgerRequestProblem(null) ?? '', /expected a reservation request/);
  assert.match(ledgerRequestProblem({ ...req(1, 'x'), tool: '' }) ?? '', /`tool`/);
  assert.match(ledgerRequestProblem({ ...req(1, 'x'), rules: [{ kind: 'budget', id: 'b', tools: ['x'], max: 1, windowMs: 10 ** 12 }] }) ?? '', /windowMs/);
  assert.match(ledgerRequestProblem({ ...req(1, 'x'), rules: [{ kind: 'release', id: 'b' }] }) ?? '', /kind/);
});

test('crossSessionDenial: any deny stops the call with the ledgers\' reasons; a silent ledger denies closed', () => {
  const parsed = parsePolicy({});
  assert.ok(parsed.success);
  const policy = compilePolicy(parsed.data, TOOLS);
  const allow = reserve(emptyLedger(), req(1, 'volumes.list'), 'agent', T0).result;
  assert.equal(crossSessionDenial(policy, 'volumes.list', [allow]), undefined);
  const { state } = run([0, 1, 2].map((i) => ({ r: req(i, 'billing.deleteRecords'), at: T0 })));
  const deny = reserve(state, req(3, 'billing.deleteRecords'), 'agent', T0).result;
  const d = crossSessionDenial(policy, 'billing.deleteRecords', [allow, deny]);
  assert.equal(d?.verdict, 'deny');
  assert.deepEqual(d?.reasons.map((r) => r.rule), ['agent.budget']);
  assert.equal(crossSessionDenial(policy, 'volumes.list', [], 'timeout')?.reasons[0]?.rule, 'ledger.unavailable');
});

test('a shadow rule denies nothing: it counts, and reports what it would have denied beside the calls that run', () => {
  const SHADOW_BUDGET: LedgerRule = { ...BUDGET, id: 'deletes (trial)', max: 1, mode: 'shadow' };
  const SHADOW_SEQ: LedgerRule = { ...SEQ, mode: 'shadow' };
  const steps = [
    { r: req(1, 'billing.deleteRecords', [SHADOW_BUDGET]), at: T0 },
    { r: req(2, 'billing.deleteRecords', [SHADOW_BUDGET]), at: T0 + MINUTE },
    { r: req(3, 'billing.deleteRecords', [SHADOW_BUDGET]), at: T0 + 2 * MINUTE },
  ];
  let state = emptyLedger();
  const results = steps.map(({ r, at }) => {
    const out = reserve(state, r, 'agent', at);
    state = out.state;
    return out.result;
  });
  assert.deepEqual(results.map((r) => r.verdict), ['allow', 'allow', 'allow']);
  assert.deepEqual(results.map((r) => r.shadow?.map((x) => x.rule)), [undefined, ['agent.budget'], ['agent.budget']]);
  // Bounded though its calls go past the limit: the last `max` times are all the window needs.
  assert.deepEqual(Object.values(state.budgets).map((b) => b.times), [[T0 + 2 * MINUTE]]);
  // A retry gets the same answer, shadow findings included.
  assert.deepEqual(reserve(state, steps[1]!.r, 'agent', T0 + 3 * MINUTE).result, results[1]);
  // A shadow transition: the `to` call runs, reported.
  const seq = run([{ r: req(1, 'volumes.list', [SHADOW_SEQ]), at: T0 }]).state;
  const to = reserve(seq, req(2, 'volumes.unmount', [SHADOW_SEQ]), 'agent', T0 + MINUTE).result;
  assert.deepEqual([to.verdict, to.shadow?.map((x) => x.rule)], ['allow', ['agent.sequence']]);
  // Beside an enforced rule that denies, the call is denied and counts nowhere: no shadow report.
  const both = run([0, 1, 2].map((i) => ({ r: req(i, 'billing.deleteRecords', [BUDGET, SHADOW_BUDGET]), at: T0 }))).state;
  const denied = reserve(both, req(3, 'billing.deleteRecords', [BUDGET, SHADOW_BUDGET]), 'agent', T0).result;
  assert.deepEqual([denied.verdict, denied.reasons.map((x) => x.rule), denied.shadow], ['deny', ['agent.budget'], undefined]);
});

test('mode in the document: shadow is carried to the ledger, enforce is the rule as before (same request), anything else is an error', () => {
  const parsed = parsePolicy({ agent: { budgets: [{ tools: ['volumes.list'], max: 1, windowMinutes: 5, mode: 'shadow' }, { tools: ['volumes.list'], max: 1, windowMinutes: 5, mode: 'enforce' }], transitions: [{ from: 'a', to: 'b', within: { minutes: 5 }, mode: 'shadow' }] } });
  assert.ok(parsed.success, JSON.stringify(!parsed.success && parsed.issues));
  assert.deepEqual(ledgerRules(parsed.data.agent).map((r) => r.mode), ['shadow', undefined, 'shadow']);
  assert.equal(Object.hasOwn(ledgerRules(parsed.data.agent)[1]!, 'mode'), false);
  const bad = parsePolicy({ owner: { budgets: [{ tools: ['x'], max: 1, windowMinutes: 5, mode: 'loud' }] } });
  assert.equal(bad.success, false);
  assert.ok(!bad.success && bad.issues.some((i) => i.path === 'owner.budgets[0].mode'), JSON.stringify(!bad.success && bad.issues));
  assert.equal(ledgerRequestProblem(req(1, 'volumes.list', [{ ...BUDGET, mode: 'shadow' }])), undefined);
  assert.match(ledgerRequestProblem(req(1, 'volumes.list', [{ ...BUDGET, mode: 'quiet' } as unknown as LedgerRule])) ?? '', /`mode`/);
});

test('withLedgerShadow: what the ledgers would have denied joins the decision\'s shadow finding', () => {
  const parsed = parsePolicy({});
  assert.ok(parsed.success);
  const policy = compilePolicy(parsed.data, TOOLS);
  const allowed: Decision = { verdict: 'allow', tier: 'autonomous', reasons: [], policyHash: policy.hash };
  const quiet = reserve(emptyLedger(), req(1, 'volumes.list'), 'agent', T0).result;
  assert.equal(withLedgerShadow(allowed, [quiet]), allowed);
  const loud: LedgerResult = { ...quiet, shadow: [{ rule: 'agent.budget', message: 'over' }] };
  assert.deepEqual(withLedgerShadow(allowed, [loud]).shadow, { verdict: 'deny', reasons: [{ rule: 'agent.budget', message: 'over' }] });
  assert.equal(withLedgerShadow(allowed, [loud]).verdict, 'allow');
});

test('property: whatever the order, times and retries, no budget window ever holds more than max allowed calls', () => {
  const stepArb = fc.record({ session: fc.constantFrom('a', 'b', 'c'), n: fc.integer({ min: 0, max: 30 }), dt: fc.integer({ min: 0, max: 20 * MINUTE }), tool: fc.constantFrom('billing.deleteRecords', 'volumes.list', 'volumes.unmount', 'billing.summary') });
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 90 }), fc.array(stepArb, { maxLength: 60 }), (max, windowMin, steps) => {
      const rule: LedgerRule = { kind: 'budget', id: 'b', tools: ['billing.delete*', 'volumes.*'], max, windowMs: windowMin * MINUTE };
      let state = emptyLedger();
      let now = T0;
      const allowedAt: number[] = [];
      const answers = new Map<string, string>();
      for (const s of steps) {
        now += s.dt;
        const r = req(s.n, s.tool, [rule, SEQ], s.session);
        const out = reserve(state, r, 'agent', now);
        // Same id, same request → same answer, always.
        const key = `${r.reservationId}|${s.tool}`;
        const prior = answers.get(key);
        if (prior !== undefined && prior !== 'conflict') assert.equal(out.result.verdict, prior);
        if (out.state !== state && out.result.verdict === 'allow' && s.tool !== 'billing.summary') allowedAt.push(now);
        if (!answers.has(key)) answers.set(key, out.result.reasons.some((x) => x.rule === 'ledger.conflict') ? 'conflict' : out.result.verdict);
        state = out.state;
        const inWindow = allowedAt.filter((t) => now - t < rule.windowMs).length;
        assert.ok(inWindow <= max, `${inWindow} allowed in the window, max ${max}`);
      }
    }),
    { numRuns: 300 },
  );
});

test('a reservation carries its call\'s time: in the digest, and first decided within the skew of the ledger\'s clock or denied stale', () => {
  const at = T0 + 5 * MINUTE;
  const now = { ...req(1, 'billing.deleteRecords'), at };
  assert.notEqual(requestDigest(now), requestDigest(req(1, 'billing.deleteRecords')), 'a request sent ahead without the time is another request');
  assert.notEqual(requestDigest(now), requestDigest({ ...now, at: at + 1 }), 'nor one a millisecond off');
  assert.equal(reserve(emptyLedger(), now, 'agent', at + RESERVATION_SKEW_MS).result.verdict, 'allow');
  for (const off of [RESERVATION_SKEW_MS + 1, -(RESERVATION_SKEW_MS + 1)]) {
    const out = reserve(emptyLedger(), now, 'agent', at + off);
    assert.deepEqual([out.result.verdict, out.result.reasons.map((r) => r.rule)], ['deny', ['ledger.stale']]);
    assert.deepEqual(out.state.budgets, {}, 'a stale reservation counts nowhere');
    // Its retry gets the same answer, whenever it comes.
    assert.equal(reserve(out.state, now, 'agent', at).result.verdict, 'deny');
  }
  assert.match(ledgerRequestProblem({ ...now, at: 'soon' }) ?? '', /`at`/);
});
