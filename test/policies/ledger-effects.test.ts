/**
 * Cross-session budgets that select calls by effect (`effects: [write, destructive]`) as well as
 * by tool name, and a person's out-of-band unlock passing the agent-wide copy of the pair it
 * unlocked: the document, the compiled per-tool rules, the ledger's `reserve`, and the replay
 * over many sessions that `policy eval` and backtests use. Pure and fast.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  describeLedgerRule,
  emptyLedger,
  ledgerRules,
  parsePolicy,
  replayAcrossSessions,
  requestDigest,
  reserve,
  ruleNames,
  type Decision,
  type LedgerRequest,
  type LedgerRule,
  type LedgerState,
  type OutcomeStatus,
  type ReplayStep,
} from '../../policies';
import { effectOfRequest, withoutUnlocked } from '../../policies/ledger';
import { call, MINUTE, policyOf, T0, TOOLS } from './fixtures';

const WRITES: LedgerRule = { kind: 'budget', id: 'writes', tools: [], effects: ['write', 'destructive'], max: 2, windowMs: 30 * MINUTE };
const SEQ: LedgerRule = { kind: 'transition', id: 'list -> unmount', from: 'volumes.list', to: 'volumes.unmount', withinMs: 30 * MINUTE };
/** Autonomous everything and no session limits in the way: only the cross-session rules decide. */
const quiet = {
  tiers: { read: { default: 'autonomous' }, write: { default: 'autonomous' }, destructive: { default: 'autonomous' } },
  alwaysBlocked: [],
  budget: { actions: 1000, writes: 1000, critical: 1000 },
};

const effectOf = (tool: string) => TOOLS.find((t) => t.name === tool)?.effect;
function req(n: number, tool: string, rules: readonly LedgerRule[], session = 's1'): LedgerRequest {
  return { reservationId: `${session}:p${n}`, sessionId: session, tool, ...effectOfRequest(rules, effectOf(tool)), rules };
}
function fold(steps: readonly { r: LedgerRequest; at: number }[], start: LedgerState = emptyLedger()) {
  let state = start;
  const results = steps.map(({ r, at }) => {
    const out = reserve(state, r, 'agent', at);
    state = out.state;
    return out.result;
  });
  return { state, results };
}

test('the document: `effects`, `tools` or both; a budget without `effects` is what it was (same rule, same digest)', () => {
  const parsed = parsePolicy({
    agent: {
      budgets: [
        { effects: ['write', 'destructive'], max: 20, windowMinutes: 30 },
        { tools: ['billing.query'], effects: ['destructive'], max: 4, windowMinutes: 30 },
        { tools: ['billing.delete*'], max: 3, windowMinutes: 60 },
      ],
    },
  });
  assert.ok(parsed.success, JSON.stringify(!parsed.success && parsed.issues));
  const [byEffect, both, byName] = ledgerRules(parsed.data.agent);
  assert.deepEqual(byEffect, { kind: 'budget', id: 'effects: write, destructive', tools: [], effects: ['write', 'destructive'], max: 20, windowMs: 30 * MINUTE });
  assert.deepEqual(both, { kind: 'budget', id: 'billing.query, effects: destructive', tools: ['billing.query'], effects: ['destructive'], max: 4, windowMs: 30 * MINUTE });
  assert.deepEqual(byName, { kind: 'budget', id: 'billing.delete*', tools: ['billing.delete*'], max: 3, windowMs: 60 * MINUTE });
  assert.equal(Object.hasOwn(byName!, 'effects'), false, 'no `effects` key: the rule fingerprints as before');
  // A request under rules that select by name only carries no effect: byte for byte the request of before.
  const old: LedgerRequest = { reservationId: 's:p1', sessionId: 's', tool: 'billing.deleteRecords', rules: [byName!] };
  assert.deepEqual(effectOfRequest([byName!], 'destructive'), {});
  assert.equal(requestDigest({ ...old, ...effectOfRequest(old.rules, 'destructive') }), requestDigest(old));
  assert.deepEqual(effectOfRequest([byName!, byEffect!], 'write'), { effect: 'write' });
  assert.deepEqual(effectOfRequest([byEffect!], undefined), {});
});

test('compiled: an effect budget takes part in every tool of its effects and no other; `tools` adds names', () => {
  const p = policyOf({
    agent: {
      budgets: [
        { id: 'writes', effects: ['write', 'destructive'], max: 20, windowMinutes: 30 },
        { id: 'deletes+query', tools: ['billing.query'], effects: ['destructive'], max: 4, windowMinutes: 30 },
      ],
    },
  });
  const named = (id: string) => TOOLS.filter((t) => p.tools.get(t.name)?.crossSession?.agent?.some((r) => r.id === id)).map((t) => t.name).sort();
  assert.deepEqual(named('writes'), TOOLS.filter((t) => t.effect !== 'read').map((t) => t.name).sort());
  assert.deepEqual(named('deletes+query'), ['audit.modify', 'billing.deleteRecords', 'billing.query', 'volumes.delete']);
  assert.equal(p.tools.get('volumes.list')?.crossSession, undefined, 'a read in no rule asks no ledger');
  assert.deepEqual(p.warnings, []);
  // A budget whose effects no tool of the catalog has is reported like a name that matches nothing.
  const readsOnly = TOOLS.filter((t) => t.effect === 'read');
  const unused = policyOf({ agent: { budgets: [{ id: 'deletes', effects: ['destructive'], max: 1, windowMinutes: 30 }] } }, readsOnly);
  assert.deepEqual(unused.warnings.map((w) => [w.path, w.message]), [['agent.budgets[0]', '`deletes` matches no tool of the catalog']]);
});

test('reserve: calls of different tools of one effect count in one budget, across sessions; reads and unnamed effects do not', () => {
  assert.equal(ruleNames(WRITES, 'staging.writeConfig', 'write'), true);
  assert.equal(ruleNames(WRITES, 'volumes.delete', 'destructive'), true);
  assert.equal(ruleNames(WRITES, 'volumes.list', 'read'), false);
  assert.equal(ruleNames(WRITES, 'staging.writeConfig'), false, 'without the effect, an effect budget names nothing');
  const { results, state } = fold([
    { r: req(1, 'staging.writeConfig', [WRITES], 'a'), at: T0 },
    { r: req(1, 'volumes.list', [WRITES], 'b'), at: T0 + 1 },
    { r: req(2, 'volumes.delete', [WRITES], 'b'), at: T0 + 2 },
    { r: req(1, 'services.restart', [WRITES], 'c'), at: T0 + 3 },
  ]);
  assert.deepEqual(results.map((r) => r.verdict), ['allow', 'allow', 'allow', 'deny']);
  assert.deepEqual(results[3]?.reasons, [{ rule: 'agent.budget', message: '`writes` ran 2 times in the last 30 minutes across this agent\'s sessions: the limit is 2' }]);
  assert.equal(Object.values(state.budgets)[0]?.times.length, 2, 'the read was not counted');
  // The window slides: 30 minutes after the first write, one fits again.
  assert.equal(reserve(state, req(2, 'services.restart', [WRITES], 'c'), 'agent', T0 + 30 * MINUTE).result.verdict, 'allow');
  // A request that leaves the effect out counts nowhere under an effect-only rule (the session always sends it).
  const { results: blind } = fold([{ r: { reservationId: 'x:p1', sessionId: 'x', tool: 'services.restart', rules: [WRITES] }, at: T0 + 4 }], state);
  assert.equal(blind[0]?.verdict, 'allow');
});

test('describeLedgerRule names the effects', () => {
  assert.equal(describeLedgerRule(WRITES), 'budget `writes`: at most 2 `write` or `destructive` calls per 30 minutes');
  assert.equal(describeLedgerRule({ ...WRITES, tools: ['billing.query'], effects: ['destructive'] }), 'budget `writes`: at most 2 calls of `billing.query` and `destructive` calls per 30 minutes');
});

test('withoutUnlocked: only a cross-session transition with the unlocked pair\'s own `from` and `to` is left out', () => {
  const pair = (from: string, to: string) => ({ globs: [{ source: from }, { source: to }] });
  const rules = [WRITES, SEQ, { ...SEQ, id: 'other', from: 'volumes.*' }];
  assert.deepEqual(withoutUnlocked(rules, []), rules);
  assert.deepEqual(withoutUnlocked(rules, [pair('volumes.list', 'volumes.unmount')]).map((r) => r.id), ['writes', 'other']);
  assert.deepEqual(withoutUnlocked(rules, [{ globs: [{ source: 'billing.query' }, { source: 'volumes.list' }, { source: 'volumes.unmount' }] }]), rules, 'a longer sequence unlocks no pair');
});

/** Sessions of one agent under a policy, every call the session lets through run. */
function replay(policy: ReturnType<typeof policyOf>, sessions: readonly { id: string; steps: readonly ReplayStep[] }[]): Record<string, string[][]> {
  const seen: Record<string, string[][]> = {};
  const ran = (d: Decision): OutcomeStatus => (d.verdict === 'deny' ? 'denied' : 'executed');
  replayAcrossSessions(policy, sessions.map((s) => ({ sessionId: s.id, principal: 'bot', owner: 'ops', init: { startedAt: T0 }, steps: s.steps })), ran, (v) => {
    (seen[v.sessionId] ??= []).push(v.decision.verdict === 'deny' ? v.decision.reasons.map((r) => r.rule) : [v.decision.verdict]);
  });
  return seen;
}

test('replayed over sessions: a new session does not reset an effect budget; an unlocked pair passes its agent-wide copy', () => {
  const churn = policyOf({ ...quiet, agent: { budgets: [{ effects: ['write', 'destructive'], max: 2, windowMinutes: 30 }] } });
  const write = (at: number): ReplayStep => ({ at, proposal: call('staging.writeConfig', { key: 'k', value: 'v' }) });
  assert.deepEqual(replay(churn, [{ id: 'a', steps: [write(T0), write(T0 + 1)] }, { id: 'b', steps: [write(T0 + 2)] }]), { a: [['allow'], ['allow']], b: [['agent.budget']] });

  const pairs = policyOf({
    ...quiet,
    transitions: [{ from: 'volumes.list', to: 'volumes.unmount' }],
    agent: { transitions: [{ from: 'volumes.list', to: 'volumes.unmount', within: { minutes: 30 } }] },
  });
  const list = (at: number): ReplayStep => ({ at, proposal: call('volumes.list') });
  const unmount = (at: number, unlocked = false): ReplayStep => ({ at, proposal: call('volumes.unmount', { volumeId: 'vol-1' }), ...(unlocked ? { facts: { transitionUnlocked: true } } : {}) });
  // Split over two sessions: no session rule sees it, the agent's does.
  assert.deepEqual(replay(pairs, [{ id: 'a', steps: [list(T0)] }, { id: 'b', steps: [unmount(T0 + MINUTE)] }]), { a: [['allow']], b: [['agent.sequence']] });
  // In one session, a person's unlock of the session's pair passes the agent-wide copy of it too.
  assert.deepEqual(replay(pairs, [{ id: 'a', steps: [list(T0), unmount(T0 + MINUTE, true)] }]), { a: [['allow'], ['allow']] });
  // An unlock the session did not need (no list in it) unlocks nothing: the agent's rule still denies.
  assert.deepEqual(replay(pairs, [{ id: 'a', steps: [list(T0)] }, { id: 'b', steps: [unmount(T0 + MINUTE, true)] }]), { a: [['allow']], b: [['agent.sequence']] });
});
