/**
 * The cross-session ledger's checks one by one (`policies/ledger.ts`): every refusal of the update
 * validators word for word at its bound, the exact denial messages, the boundaries of the windows,
 * retries, `answerFor`, leases at their limits and `describeLedgerRule`. Pure and fast.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  answerFor,
  describeLedgerRule,
  emptyLedger,
  leaseReturnProblem,
  ledgerRequestProblem,
  ledgerRules,
  pruneLedger,
  requestDigest,
  reserve,
  returnLeases,
  ruleNames,
  LEASE_MAX,
  MAX_LEASES,
  MAX_RULE_ENTRIES,
  type LedgerRequest,
  type LedgerResult,
  type LedgerRule,
  type LedgerState,
} from '../../policies';
import { MINUTE, T0 } from './fixtures';

const WEEK_MS = 10_080 * 60_000;
const BUDGET: LedgerRule = { kind: 'budget', id: 'deletes', tools: ['billing.delete*'], max: 3, windowMs: 60 * MINUTE };
const SEQ: LedgerRule = { kind: 'transition', id: 'list -> unmount', from: 'volumes.list', to: 'volumes.unmount', withinMs: 30 * MINUTE };
const BASE = { reservationId: 's:p1', sessionId: 's', tool: 'volumes.list', rules: [] as LedgerRule[] };
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const HEX = sha('secret');

function req(n: number, tool: string, rules: readonly LedgerRule[] = [BUDGET, SEQ], session = 's1'): LedgerRequest {
  return { reservationId: `${session}:p${n}`, sessionId: session, tool, rules };
}
const budgetRule = (over: Record<string, unknown>) => ({ kind: 'budget', id: 'b', tools: ['x'], max: 1, windowMs: MINUTE, ...over });
const seqRule = (over: Record<string, unknown>) => ({ kind: 'transition', id: 't', from: 'a', to: 'b', withinMs: MINUTE, ...over });

test('the request validator: each field, at its bounds, word for word', () => {
  assert.equal(ledgerRequestProblem(BASE), undefined);
  for (const bad of [null, undefined, 'a request', 7]) assert.equal(ledgerRequestProblem(bad), 'expected a reservation request');
  for (const f of ['reservationId', 'sessionId', 'tool'] as const) {
    for (const v of [undefined, 1, '', 'x'.repeat(513)]) assert.equal(ledgerRequestProblem({ ...BASE, [f]: v }), `expected \`${f}\` to be a non-empty string`, `${f} = ${String(v).slice(0, 9)}`);
    assert.equal(ledgerRequestProblem({ ...BASE, [f]: 'x'.repeat(512) }), undefined, `${f} of 512 characters`);
  }
  const rulesMsg = 'expected `rules` to be a list of at most 64 rules';
  assert.equal(ledgerRequestProblem({ ...BASE, rules: 'all' }), rulesMsg);
  assert.equal(ledgerRequestProblem({ ...BASE, rules: Array(65).fill(BUDGET) }), rulesMsg);
  assert.equal(ledgerRequestProblem({ ...BASE, rules: Array(64).fill(BUDGET) }), undefined);
  assert.equal(ledgerRequestProblem({ ...BASE, rules: [BUDGET, 'x'] }), 'expected a rule');
});

test('the rule validator: each field of a budget and a transition, at its bounds, word for word', () => {
  const problem = (rule: unknown) => ledgerRequestProblem({ ...BASE, rules: [rule] });
  assert.equal(problem(null), 'expected a rule');
  assert.equal(problem(3), 'expected a rule');
  for (const id of [undefined, '', 'x'.repeat(513), 5]) assert.equal(problem(budgetRule({ id })), 'expected a rule `id`');
  assert.equal(problem(budgetRule({ id: 'x'.repeat(512) })), undefined);
  assert.equal(problem(budgetRule({ mode: 'enforce' })), 'rule `b`: expected `mode` to be `shadow` or absent');
  assert.equal(problem(budgetRule({ mode: 'shadow' })), undefined);
  for (const tools of ['x', Array(65).fill('x'), ['x', ''], ['x', 3], ['x'.repeat(513)]]) assert.equal(problem(budgetRule({ tools })), 'rule `b`: expected `tools`');
  assert.equal(problem(budgetRule({ tools: Array(64).fill('x'.repeat(512)) })), undefined);
  // A budget selects by `tools`, `effects` or both; one that selects nothing is malformed.
  assert.equal(problem(budgetRule({ tools: [] })), 'rule `b`: expected `tools` or `effects`');
  for (const effects of [[], 'write', ['write', 'delete'], ['read', 'write', 'destructive', 'write'], [null]]) assert.equal(problem(budgetRule({ tools: [], effects })), 'rule `b`: expected `effects` to list `read`, `write` or `destructive`');
  for (const effects of [['write'], ['read', 'write', 'destructive']]) assert.equal(problem(budgetRule({ tools: [], effects })), undefined);
  assert.equal(problem(budgetRule({ effects: ['destructive'] })), undefined, 'tools and effects together');
  for (const effect of ['delete', 3, null]) assert.equal(ledgerRequestProblem({ ...BASE, effect, rules: [BUDGET] }), 'expected `effect` to be `read`, `write` or `destructive`');
  assert.equal(ledgerRequestProblem({ ...BASE, effect: 'write', rules: [BUDGET] }), undefined);
  for (const max of ['1', 1.5, -1, 1_000_001, Number.NaN]) assert.equal(problem(budgetRule({ max })), 'rule `b`: expected `max` between 0 and 1000000');
  for (const max of [0, 1_000_000]) assert.equal(problem(budgetRule({ max })), undefined);
  for (const windowMs of ['1', 0, 1.5, WEEK_MS + 1]) assert.equal(problem(budgetRule({ windowMs })), 'rule `b`: expected `windowMs` up to 7 days');
  for (const windowMs of [1, WEEK_MS]) assert.equal(problem(budgetRule({ windowMs })), undefined);
  assert.equal(problem(seqRule({})), undefined);
  for (const over of [{ from: '' }, { to: '' }, { from: undefined }, { to: 'x'.repeat(513) }]) assert.equal(problem(seqRule(over)), 'rule `t`: expected `from` and `to`');
  for (const withinMs of [0, WEEK_MS + 1, 2.5, '5']) assert.equal(problem(seqRule({ withinMs })), 'rule `t`: expected `withinMs` up to 7 days');
  assert.equal(problem(seqRule({ withinMs: WEEK_MS })), undefined);
  assert.equal(problem({ ...seqRule({}), kind: 'release' }), 'expected a rule of kind `budget` or `transition`');
});

test('lease requests: the count and the key, at their bounds', () => {
  const leaseMsg = `expected \`lease\` between 1 and ${LEASE_MAX}`;
  for (const lease of [0, LEASE_MAX + 1, 1.5, '2', null]) assert.equal(ledgerRequestProblem({ ...BASE, lease, leaseKey: HEX }), leaseMsg, String(lease));
  for (const lease of [1, LEASE_MAX]) assert.equal(ledgerRequestProblem({ ...BASE, lease, leaseKey: HEX }), undefined);
  const keyMsg = 'expected `leaseKey` to be a sha256 in hex';
  for (const leaseKey of [undefined, HEX.toUpperCase(), HEX.slice(1), `${HEX}0`, `x${HEX}`, 42]) assert.equal(ledgerRequestProblem({ ...BASE, lease: 2, leaseKey }), keyMsg);
  // A key without a lease is not checked (the ledger ignores it).
  assert.equal(ledgerRequestProblem({ ...BASE, leaseKey: 'anything' }), undefined);
});

test('returned leases: ids, times and tokens, at their bounds, in a reservation and on their own', () => {
  const ret = (over: Record<string, unknown>) => ({ leaseId: 's:p0', used: [T0], token: 't', ...over });
  const both = (returns: unknown) => [ledgerRequestProblem({ ...BASE, returns }), leaseReturnProblem({ returnId: 's:r1', sessionId: 's', returns })];
  const same = (returns: unknown, msg: string | undefined) => assert.deepEqual(both(returns), [msg, msg], JSON.stringify(returns)?.slice(0, 60));
  same([ret({})], undefined);
  same([ret({ token: undefined })], undefined);
  same('all', 'expected `returns` to be a list of at most 64 leases');
  same(Array(65).fill(ret({})), 'expected `returns` to be a list of at most 64 leases');
  same(Array(64).fill(ret({})), undefined);
  for (const leaseId of [undefined, '', 'x'.repeat(513), 3]) same([ret({ leaseId })], "expected a returned lease's `leaseId`");
  same([null], "expected a returned lease's `leaseId`");
  same([ret({ leaseId: 'x'.repeat(512) })], undefined);
  for (const used of [T0, Array(LEASE_MAX + 1).fill(T0), [T0, Number.NaN], [Infinity], ['1']]) same([ret({ used })], `expected \`used\` to be at most ${LEASE_MAX} times`);
  same([ret({ used: Array(LEASE_MAX).fill(T0) })], undefined);
  for (const token of [5, 'x'.repeat(129), null]) same([ret({ token })], "expected a returned lease's `token` to be a string");
  same([ret({ token: 'x'.repeat(128) })], undefined);
  assert.equal(ledgerRequestProblem({ ...BASE, returns: undefined }), undefined, 'no returns: nothing to check');
  assert.equal(leaseReturnProblem({ returnId: 's:r1', sessionId: 's' }), 'expected `returns` to be a list of at most 64 leases');
  for (const bad of [null, 'x', 1]) assert.equal(leaseReturnProblem(bad), 'expected a lease return');
  for (const f of ['returnId', 'sessionId'] as const) {
    for (const v of [undefined, '', 'x'.repeat(513), 2]) assert.equal(leaseReturnProblem({ returnId: 's:r1', sessionId: 's', returns: [], [f]: v }), `expected \`${f}\` to be a non-empty string`);
    assert.equal(leaseReturnProblem({ returnId: 's:r1', sessionId: 's', returns: [], [f]: 'x'.repeat(512) }), undefined);
  }
});

test('ledgerRules: ids by default, reasons carried, windows in ms; ruleNames: any of a budget\'s tools, either end of a transition', () => {
  const rules = ledgerRules({
    budgets: [{ tools: ['a.*', 'b.x'], max: 2, windowMinutes: 1.5, reason: 'too many' }, { id: 'named', tools: ['c'], max: 1, windowMinutes: 5, mode: 'enforce' }],
    transitions: [{ from: 'a.x', to: 'b.y', within: { minutes: 0.5 }, reason: 'a then b' }, { id: 'pair', from: 'p', to: 'q', within: { minutes: 2 }, mode: 'shadow' }],
  } as never);
  assert.deepEqual(rules, [
    { kind: 'budget', id: 'a.*, b.x', tools: ['a.*', 'b.x'], max: 2, windowMs: 90_000, reason: 'too many' },
    { kind: 'budget', id: 'named', tools: ['c'], max: 1, windowMs: 300_000 },
    { kind: 'transition', id: 'a.x -> b.y', from: 'a.x', to: 'b.y', withinMs: 30_000, reason: 'a then b' },
    { kind: 'transition', id: 'pair', from: 'p', to: 'q', withinMs: 120_000, mode: 'shadow' },
  ]);
  assert.deepEqual(ledgerRules(undefined), []);
  assert.deepEqual(emptyLedger(), { budgets: {}, transitions: {}, reservations: {}, order: [] });
  assert.equal(ruleNames(rules[0]!, 'b.x'), true, 'the second tool of a budget');
  assert.equal(ruleNames(rules[0]!, 'c'), false);
  assert.equal(ruleNames(rules[2]!, 'a.x'), true, 'a transition\'s from');
  assert.equal(ruleNames(rules[2]!, 'b.y'), true, 'a transition\'s to');
  assert.equal(ruleNames(rules[2]!, 'c'), false);
});

test('the exact denials: budget and sequence, agent and owner, with the rule\'s reason and fractional windows', () => {
  const budget: LedgerRule = { kind: 'budget', id: 'deletes', tools: ['billing.delete*'], max: 1, windowMs: 100_000, reason: 'ask first' };
  const first = reserve(emptyLedger(), req(1, 'billing.deleteRecords', [budget]), 'owner', T0).state;
  assert.deepEqual(reserve(first, req(2, 'billing.deleteRecords', [budget]), 'owner', T0 + 1).result.reasons, [
    { rule: 'owner.budget', message: "`deletes` ran 1 times in the last 1.67 minutes across this owner's agents: the limit is 1: ask first" },
  ]);
  const seq: LedgerRule = { ...SEQ, withinMs: 90_000 };
  const listed = reserve(emptyLedger(), req(1, 'volumes.list', [seq]), 'agent', T0).state;
  assert.deepEqual(reserve(listed, req(2, 'volumes.unmount', [seq]), 'agent', T0 + 1).result.reasons, [
    { rule: 'agent.sequence', message: "`volumes.list` then `volumes.unmount` within 1.5 minutes across this agent's sessions is a forbidden transition" },
  ]);
  const owned = reserve(emptyLedger(), req(1, 'volumes.list', [{ ...seq, reason: 'unmount needs a person' }]), 'owner', T0).state;
  assert.equal(reserve(owned, req(2, 'volumes.unmount', [{ ...seq, reason: 'unmount needs a person' }]), 'owner', T0 + 1).result.reasons[0]?.message, "`volumes.list` then `volumes.unmount` within 1.5 minutes across this owner's agents is a forbidden transition: unmount needs a person");
});

test('window edges: a transition denies through withinMs inclusive; a budget forgets a call windowMs after it', () => {
  const listed = reserve(emptyLedger(), req(1, 'volumes.list', [SEQ]), 'agent', T0).state;
  assert.equal(reserve(listed, req(2, 'volumes.unmount', [SEQ]), 'agent', T0 + SEQ.withinMs).result.verdict, 'deny');
  assert.equal(reserve(listed, req(2, 'volumes.unmount', [SEQ]), 'agent', T0 + SEQ.withinMs + 1).result.verdict, 'allow');
  // `from` again inside the window is no transition; a rule that does not name the tool counts nothing.
  assert.equal(reserve(listed, req(2, 'volumes.list', [SEQ]), 'agent', T0 + 1).result.verdict, 'allow');
  assert.deepEqual(reserve(emptyLedger(), req(1, 'volumes.list', [BUDGET]), 'agent', T0).state.budgets, {});
  // The `to` of a transition that is also matched only as `to` starts nothing.
  const after = reserve(listed, req(3, 'volumes.unmount', [SEQ]), 'agent', T0 + SEQ.withinMs + 1).state;
  assert.equal(after.transitions[Object.keys(after.transitions)[0] ?? '']?.lastFrom, undefined);
  const one: LedgerRule = { ...BUDGET, max: 1 };
  const used = reserve(emptyLedger(), req(1, 'billing.deleteRecords', [one]), 'agent', T0).state;
  assert.equal(reserve(used, req(2, 'billing.deleteRecords', [one]), 'agent', T0 + one.windowMs - 1).result.verdict, 'deny');
  assert.equal(reserve(used, req(2, 'billing.deleteRecords', [one]), 'agent', T0 + one.windowMs).result.verdict, 'allow');
  assert.deepEqual(pruneLedger(used, T0 + one.windowMs - 1).budgets, used.budgets);
  assert.deepEqual(pruneLedger(used, T0 + one.windowMs).budgets, {});
  assert.equal(Object.keys(pruneLedger(listed, T0 + SEQ.withinMs).transitions).length, 1);
  assert.deepEqual(pruneLedger(listed, T0 + SEQ.withinMs + 1).transitions, {});
  // A budget keeps only the times still inside its window.
  const two: LedgerRule = { ...BUDGET, max: 5 };
  let s = reserve(emptyLedger(), req(1, 'billing.deleteRecords', [two]), 'agent', T0).state;
  s = reserve(s, req(2, 'billing.deleteRecords', [two]), 'agent', T0 + 10 * MINUTE).state;
  assert.deepEqual(Object.values(pruneLedger(s, T0 + two.windowMs).budgets).map((b) => b.times), [[T0 + 10 * MINUTE]]);
  // A shadow budget of 0 counts past its limit and keeps nothing.
  const zero: LedgerRule = { ...BUDGET, max: 0, mode: 'shadow' };
  let z = emptyLedger();
  for (let i = 0; i < 3; i++) z = reserve(z, req(i, 'billing.deleteRecords', [zero]), 'agent', T0 + i).state;
  assert.deepEqual(Object.values(z.budgets).map((b) => b.times), [[]]);
});

test('ledger.full: the rule entries at the bound, and a full ledger still serves the rules it holds', () => {
  const rule = (i: number): LedgerRule => ({ kind: 'budget', id: `r${i}`, tools: ['x'], max: 5, windowMs: 60 * MINUTE });
  let s = emptyLedger();
  for (let i = 0; i < MAX_RULE_ENTRIES - 1; i++) s = reserve(s, req(i, 'x', [rule(i)], 'f'), 'agent', T0).state;
  const last = reserve(s, req(1, 'billing.deleteRecords', [BUDGET]), 'agent', T0);
  assert.deepEqual([last.result.verdict, Object.keys(last.state.budgets).length], ['allow', MAX_RULE_ENTRIES], 'the last free entry is taken');
  const full = last.state;
  assert.deepEqual(reserve(full, req(2, 'billing.deleteRecords', [BUDGET]), 'agent', T0).result.reasons, [], 'a rule it holds still counts');
  assert.deepEqual(reserve(full, req(2, 'volumes.list', [SEQ]), 'owner', T0).result.reasons, [{ rule: 'ledger.full', message: 'the owner ledger holds 256 rule entries: no room for new rules' }]);
  // A full ledger refuses a lease with the call (there is room in the budget, not in the ledger).
  const big: LedgerRule = { ...BUDGET, id: 'big', max: 10_000 };
  const refused = reserve(full, { ...req(3, 'billing.deleteRecords', [big]), lease: 4, leaseKey: HEX }, 'agent', T0);
  assert.deepEqual([refused.result.verdict, refused.result.lease, refused.state.leases], ['deny', undefined, undefined]);
  // A transition entry counts towards the bound too, and a transition it holds still counts.
  let t = emptyLedger();
  const seq = (i: number): LedgerRule => ({ kind: 'transition', id: `t${i}`, from: 'a', to: `b${i}`, withinMs: MINUTE });
  for (let i = 0; i < MAX_RULE_ENTRIES; i++) t = reserve(t, req(i, 'a', [seq(i)], 'f'), 'agent', T0).state;
  assert.equal(reserve(t, req(1, 'billing.deleteRecords', [BUDGET]), 'agent', T0).result.reasons[0]?.rule, 'ledger.full');
  assert.deepEqual(reserve(t, req(1, 'a', [seq(0)]), 'agent', T0).result.reasons, []);
});

test('a retry returns the stored answer (its lease included); a conflict names the reservation', () => {
  const rules = [{ ...BUDGET, max: 10_000 }];
  const asked: LedgerRequest = { ...req(1, 'billing.deleteRecords', rules), lease: 4, leaseKey: HEX };
  const first = reserve(emptyLedger(), asked, 'agent', T0);
  assert.equal(first.result.lease?.units, 4);
  const again = reserve(first.state, asked, 'agent', T0 + 1);
  assert.deepEqual(again.result, first.result);
  assert.deepEqual(reserve(first.state, { ...asked, lease: 3 }, 'agent', T0).result, {
    verdict: 'deny',
    reasons: [{ rule: 'ledger.conflict', message: 'reservation `s1:p1` was already decided for another request' }],
    reservationId: 's1:p1',
    requestDigest: requestDigest({ ...asked, lease: 3 }),
  });
  // A denial without shadow findings or a lease is stored as it was.
  const plain = reserve(emptyLedger(), req(1, 'volumes.list', []), 'agent', T0);
  assert.deepEqual(Object.keys(reserve(plain.state, req(1, 'volumes.list', []), 'agent', T0).result).sort(), ['reasons', 'requestDigest', 'reservationId', 'verdict']);
});

test('requestDigest: the lease key and returned tokens aside, everything else counts', () => {
  const ret = { leaseId: 's:p0', used: [T0] };
  const r: LedgerRequest = { ...req(1, 'volumes.list'), returns: [{ ...ret, token: 'a' }] };
  assert.equal(requestDigest(r), requestDigest({ ...r, returns: [{ ...ret, token: 'b' }] }));
  assert.equal(requestDigest(r), requestDigest({ ...r, leaseKey: HEX }));
  assert.notEqual(requestDigest(r), requestDigest({ ...r, returns: [{ ...ret, used: [T0 + 1] }] }));
  assert.notEqual(requestDigest(r), requestDigest(req(1, 'volumes.list')));
  assert.notEqual(requestDigest(req(1, 'volumes.list')), requestDigest(req(1, 'volumes.list', [BUDGET])));
});

test('answerFor: the answer must carry this request\'s digest, id and a known verdict', () => {
  const genuine = req(1, 'volumes.list');
  const honest = reserve(emptyLedger(), genuine, 'agent', T0).result;
  assert.equal(answerFor(genuine, honest), honest);
  const deny = { ...honest, verdict: 'deny' as const };
  assert.equal(answerFor(genuine, deny), deny);
  const refused = { verdict: 'deny', reasons: [{ rule: 'ledger.conflict', message: "the ledger's answer for `s1:p1` is not for this request" }], reservationId: 's1:p1', requestDigest: requestDigest(genuine) };
  for (const forged of [{ ...honest, reservationId: 's1:p2' }, { ...honest, requestDigest: 'x' }, { ...honest, verdict: 'maybe' }, undefined]) {
    assert.deepEqual(answerFor(genuine, forged as unknown as LedgerResult), refused);
  }
});

test('leases at their bounds: none when no rule names the tool, none when the ledger holds MAX_LEASES, 2 is the least granted', () => {
  const big = { ...BUDGET, tools: ['volumes.*'], max: 1_000_000 };
  const ask = (state: LedgerState, rules: readonly LedgerRule[], n = 1) => reserve(state, { reservationId: `s:p${n}`, sessionId: 's', tool: 'volumes.list', rules, lease: LEASE_MAX, leaseKey: HEX }, 'agent', T0);
  assert.equal(ask(emptyLedger(), [BUDGET]).result.lease, undefined, 'no rule names the tool');
  assert.equal(ask(emptyLedger(), [{ ...big, max: 129 }]).result.lease?.units, 2, '(129 - 1) / 64 = 2');
  // Each budget's entry counts the leased calls, and the lease lives as long as the longest window.
  const two = ask(emptyLedger(), [big, { ...big, id: 'wide', windowMs: 120 * MINUTE }]).state;
  assert.deepEqual(Object.values(two.budgets).map((b) => b.times.length), [1 + LEASE_MAX, 1 + LEASE_MAX]);
  assert.equal(Object.values(two.leases ?? {})[0]?.windowMs, 120 * MINUTE);
  assert.equal(Object.values(two.leases ?? {})[0]?.until, T0 + 60_000);
  let s: LedgerState = emptyLedger();
  for (let i = 0; i < MAX_LEASES - 1; i++) s = ask(s, [big], i).state;
  assert.equal(Object.keys(s.leases ?? {}).length, MAX_LEASES - 1);
  const last = ask(s, [big], MAX_LEASES);
  assert.equal(last.result.lease?.units, LEASE_MAX, 'the last free lease');
  assert.equal(ask(last.state, [big], MAX_LEASES + 1).result.lease, undefined, 'full: one call at a time');
});

test('returnLeases: spent times clamped into the lease, at most its units, sorted; a ledger without leases is unchanged', () => {
  const rules = [{ ...BUDGET, tools: ['volumes.*'], max: 10_000 }];
  const token = 'the-secret';
  const leased = reserve(emptyLedger(), { reservationId: 's:p1', sessionId: 's', tool: 'volumes.list', rules, lease: 3, leaseKey: sha(token) }, 'agent', T0).state;
  const until = T0 + 60_000;
  const back = returnLeases(leased, 's', [{ leaseId: 's:p1', used: [until + 5_000, T0 + 2, T0 + 1, T0 + 3], token }]);
  assert.deepEqual(Object.values(back.budgets)[0]?.times, [T0, T0 + 1, T0 + 2, until], 'three spent kept of four given, a late time clamped to `until`, sorted');
  assert.deepEqual(back.leases, {});
  // Another session's lease in the same ledger is untouched.
  const other = reserve(leased, { reservationId: 't:p1', sessionId: 't', tool: 'volumes.list', rules, lease: 2, leaseKey: sha('t') }, 'agent', T0).state;
  const returned = returnLeases(other, 's', [{ leaseId: 's:p1', used: [], token }]);
  assert.deepEqual(Object.keys(returned.leases ?? {}), ['t:p1']);
  assert.deepEqual(Object.values(returned.budgets)[0]?.times, [T0, T0, until, until], 'only its own three calls stamped `until` go, the other lease\'s two stay');
  // Forgotten once nothing of it counts: `until` plus the longest window of its budgets.
  assert.equal(Object.keys(pruneLedger(leased, until + 60 * MINUTE - 1).leases ?? {}).length, 1);
  assert.deepEqual(pruneLedger(leased, until + 60 * MINUTE).leases, {});
  const none = reserve(emptyLedger(), req(1, 'volumes.list'), 'agent', T0).state;
  // A ledger that never leased has no `leases` field (its state is what it was before leases).
  assert.equal(Object.hasOwn(none, 'leases'), false);
  assert.equal(Object.hasOwn(pruneLedger(none, T0), 'leases'), false);
  assert.equal(returnLeases(none, 's1', [{ leaseId: 's1:p1', used: [], token }]), none);
  // A lease whose budget entry has already been pruned frees nothing else.
  const pruned = { ...leased, budgets: {} };
  assert.deepEqual(returnLeases(pruned, 's', [{ leaseId: 's:p1', used: [T0], token }]).budgets, {});
});

test('describeLedgerRule: one line per rule, shadow marked', () => {
  assert.equal(describeLedgerRule({ ...BUDGET, tools: ['billing.delete*', 'db.drop'], windowMs: 90_000 }), 'budget `deletes`: at most 3 calls of `billing.delete*`, `db.drop` per 1.5 minutes');
  assert.equal(describeLedgerRule({ ...SEQ, mode: 'shadow' }), 'transition `list -> unmount`: `volumes.unmount` denied within 30 minutes of `volumes.list` (shadow: reported, not enforced)');
  assert.equal(describeLedgerRule({ ...BUDGET, mode: 'shadow' }), 'budget `deletes`: at most 3 calls of `billing.delete*` per 60 minutes (shadow: reported, not enforced)');
});
