/**
 * The folds over recorded calls (`policies/replay.ts`, `policies/replay-across.ts`), path analysis
 * at its edges (`policies/analyze.ts`) and the argument depth check (`policies/json-depth.ts`):
 * each branch with a test that fails without it. Pure and fast.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzePaths, replayAcrossSessions, replaySession, reserveAcross, type Decision, type Ledgers, type OutcomeStatus, type ReplayStep } from '../../policies';
import { describePath, tooDeepAt } from '../../policies/json-depth';
import { call, examplePolicy, MINUTE, policyOf, T0 } from './fixtures';

const quiet = { budget: { actions: 1000, writes: 1000, critical: 1000 } };
const ran = (d: Decision): OutcomeStatus => (d.verdict === 'deny' ? 'denied' : 'executed');

test('replaySession: each step decided in the state before it, advanced with its outcome, then its intent score', () => {
  const p = policyOf({ ...quiet, tiers: { write: { default: 'autonomous' } }, rateLimits: { perTool: { max: 1, perSeconds: 60 } }, tools: { 'volumes.unmount': { blastRadius: { approvalAbove: 5 } } } });
  const steps: ReplayStep[] = [
    { at: T0, proposal: call('volumes.list'), intentScore: 0.9 },
    { at: T0 + 1, proposal: call('volumes.list') },
    { at: T0 + 2, proposal: call('volumes.unmount'), facts: { blastRadius: 3 } },
  ];
  const seen: string[] = [];
  const outcomes: string[] = [];
  const end = replaySession(p, { startedAt: T0 }, steps, (d, s) => {
    outcomes.push(`${s.at - T0}:${d.verdict}`);
    return ran(d);
  }, (v) => seen.push(`${v.step.at - T0}:${v.decision.verdict}:${v.before.counters.proposals}`));
  assert.deepEqual(seen, ['0:allow:0', '1:deny:1', '2:allow:2'], 'the step\'s facts are used: 3 rows is within the limit');
  assert.deepEqual(outcomes, ['0:allow', '1:deny', '2:allow']);
  assert.deepEqual(end.counters, { proposals: 3, executed: 2, denied: 1, failed: 0, expired: 0, tokens: 0 });
  assert.equal(end.intent.score, 0.9);
  assert.equal(replaySession(p, { startedAt: T0 }, [{ at: T0, proposal: call('volumes.unmount') }], ran).counters.executed, 1, 'no facts: the estimate is unknown (approval), not malformed');
});

/** Two sessions of one agent under an agent-wide budget of one delete an hour. */
function budgetPolicy(mode?: 'shadow') {
  return policyOf({ ...quiet, tiers: { destructive: { default: 'autonomous' } }, agent: { budgets: [{ id: 'one-delete', tools: ['volumes.delete'], max: 1, windowMinutes: 60, ...(mode ? { mode } : {}) }] } });
}
const session = (sessionId: string, steps: ReplayStep[], principal = 'agent-1') => ({ sessionId, principal, owner: 'owner-1', init: { startedAt: T0 }, steps });
const del = (at: number): ReplayStep => ({ at, proposal: call('volumes.delete') });

test('replayAcrossSessions: time order first, then the sessions\' order, then the steps\'; each session keeps its own state', () => {
  const p = budgetPolicy();
  const verdicts = (sessions: ReturnType<typeof session>[]) => {
    const out: string[] = [];
    replayAcrossSessions(p, sessions, ran, (v) => out.push(`${v.sessionId}:${v.decision.verdict}`));
    return out;
  };
  assert.deepEqual(verdicts([session('a', [del(T0)]), session('b', [del(T0)])]), ['a:allow', 'b:deny']);
  assert.deepEqual(verdicts([session('b', [del(T0)]), session('a', [del(T0)])]), ['b:allow', 'a:deny']);
  assert.deepEqual(verdicts([session('a', [del(T0 + 1)]), session('b', [del(T0)])]), ['b:allow', 'a:deny']);
  const { states, ledgers } = replayAcrossSessions(p, [session('a', [del(T0), { ...del(T0), intentScore: 0.4 }]), session('b', [])], ran);
  assert.deepEqual(states.map((s) => s.counters.proposals), [2, 0]);
  assert.equal(states[0]?.intent.score, 0.4);
  assert.deepEqual([...ledgers.keys()], ['agent:agent-1']);
  assert.deepEqual(ledgers.get('agent:agent-1')?.order, ['a:p1', 'a:p2'], 'reservation ids by step, from 1');
  // Another agent counts in its own ledger.
  assert.deepEqual(verdicts([session('a', [del(T0)]), session('c', [del(T0)], 'agent-2')]), ['a:allow', 'c:allow']);
});

test('replayAcrossSessions: only a call that runs (executed or failed) reserves; a ledger\'s denial is the decision; shadow findings are reported', () => {
  const p = budgetPolicy();
  const outcome = (o: OutcomeStatus) => (d: Decision): OutcomeStatus => (d.verdict === 'deny' ? 'denied' : o);
  for (const o of ['denied', 'expired'] as const) {
    const { ledgers } = replayAcrossSessions(p, [session('a', [del(T0), del(T0 + 1)])], outcome(o));
    assert.equal(ledgers.size, 0, o);
  }
  const failed = replayAcrossSessions(p, [session('a', [del(T0), del(T0 + 1)])], outcome('failed'));
  assert.deepEqual(failed.states[0]?.counters, { proposals: 2, executed: 0, denied: 1, failed: 1, expired: 0, tokens: 0 });
  const denied: Decision[] = [];
  replayAcrossSessions(p, [session('a', [del(T0), del(T0 + MINUTE)])], ran, (v) => denied.push(v.decision));
  assert.deepEqual(denied[1]?.reasons.map((r) => r.rule), ['agent.budget']);
  assert.equal(denied[1]?.tier, 'autonomous');
  const shadowed: Decision[] = [];
  replayAcrossSessions(budgetPolicy('shadow'), [session('a', [del(T0), del(T0 + MINUTE)])], ran, (v) => shadowed.push(v.decision));
  assert.deepEqual(shadowed.map((d) => [d.verdict, d.shadow?.reasons.map((r) => r.rule)]), [['allow', undefined], ['allow', ['agent.budget']]]);
});

test('reserveAcross: the agent\'s ledger first, the owner\'s only if it allows; only the kinds asked; a tool in no rule asks nothing', () => {
  const p = policyOf({
    ...quiet,
    agent: { budgets: [{ tools: ['volumes.delete'], max: 1, windowMinutes: 60 }] },
    owner: { budgets: [{ tools: ['volumes.*'], max: 5, windowMinutes: 60 }], transitions: [{ from: 'volumes.list', to: 'volumes.delete', within: { minutes: 5 } }] },
  });
  const who = { sessionId: 's', principal: 'ag', owner: 'ow' };
  const ledgers: Ledgers = new Map();
  assert.deepEqual(reserveAcross(p, ledgers, who, 's:p1', 'billing.query', T0), { answers: [] });
  const first = reserveAcross(p, ledgers, who, 's:p1', 'volumes.delete', T0);
  assert.deepEqual([first.denied, first.answers.map((a) => a.verdict)], [undefined, ['allow', 'allow']]);
  assert.deepEqual([...ledgers.keys()], ['agent:ag', 'owner:ow']);
  const second = reserveAcross(p, ledgers, who, 's:p2', 'volumes.delete', T0);
  assert.deepEqual([second.denied?.reasons.map((r) => r.rule), second.answers.length], [['agent.budget'], 1]);
  assert.deepEqual(ledgers.get('owner:ow')?.order, ['s:p1'], 'the owner never saw the denied call');
  // Only the owner's rules name volumes.list: no agent ledger asked.
  const fresh: Ledgers = new Map();
  assert.equal(reserveAcross(p, fresh, who, 's:p3', 'volumes.list', T0).answers.length, 1);
  assert.deepEqual([...fresh.keys()], ['owner:ow']);
  // Only transitions asked: the budgets are not counted.
  const onlyTransitions: Ledgers = new Map();
  assert.deepEqual(reserveAcross(p, onlyTransitions, who, 's:p4', 'volumes.delete', T0, ['transition']).answers.map((a) => a.verdict), ['allow']);
  assert.deepEqual(Object.keys(onlyTransitions.get('owner:ow')?.budgets ?? {}), []);
});

test('analyzePaths: the length asked (at least 2, whole; 3 when not a number), the path limit exactly, the summary', () => {
  const p = examplePolicy();
  for (const [asked, length] of [[Number.NaN, 3], [Infinity, 3], [1, 2], [2.9, 2]] as const) assert.equal(analyzePaths(p, asked, 1).maxLength, length, String(asked));
  assert.equal(analyzePaths(p).maxLength, 3);
  const all = analyzePaths(p, 2);
  assert.deepEqual([all.summary, all.truncated], [{ paths: 18, blocked: 4, approval: 14, autonomous: 0 }, false]);
  assert.deepEqual([analyzePaths(p, 2, 18).paths.length, analyzePaths(p, 2, 18).truncated], [18, false]);
  assert.deepEqual([analyzePaths(p, 2, 17).paths.length, analyzePaths(p, 2, 17).truncated], [17, true]);
  assert.ok(all.paths.every((x) => x.status === 'blocked' || x.unlockable === false), 'unlockable only when blocked');
});

test('analyzePaths: what ends a path (destructive, blocked, an enforced transition\'s end) and how a path is classified step by step', () => {
  const p = policyOf({
    ...quiet,
    tiers: { write: { default: 'autonomous' }, destructive: { default: 'autonomous' } },
    alwaysBlocked: [],
    tools: { 'services.restart': { tier: 'blocked' }, 'secrets.rotate': { tier: 'approval' } },
    transitions: [{ from: 'volumes.list', to: 'volumes.unmount' }, { from: 'billing.query', to: 'services.scale', mode: 'shadow' }],
    owner: { transitions: [{ from: 'billing.summary', to: 'env.modifyProduction', within: { minutes: 5 } }], budgets: [{ tools: ['staging.writeConfig'], max: 1, windowMinutes: 5 }] },
  });
  const a = analyzePaths(p, 3);
  const ends = new Set(a.paths.map((x) => x.tools.at(-1)));
  assert.deepEqual([...ends].sort(), ['audit.modify', 'billing.deleteRecords', 'env.modifyProduction', 'services.restart', 'volumes.delete', 'volumes.unmount']);
  const path = (k: string) => a.paths.find((x) => x.tools.join(' > ') === k);
  assert.deepEqual(path('volumes.list > volumes.unmount'), { tools: ['volumes.list', 'volumes.unmount'], status: 'blocked', steps: [{ tool: 'volumes.list', verdict: 'allow', rules: [] }, { tool: 'volumes.unmount', verdict: 'deny', rules: ['transition.forbidden'] }], unlockable: true });
  assert.deepEqual([path('billing.summary > env.modifyProduction')?.status, path('billing.summary > env.modifyProduction')?.unlockable], ['blocked', false]);
  assert.deepEqual([path('billing.query > secrets.rotate > volumes.delete')?.status, path('billing.query > secrets.rotate > volumes.delete')?.unlockable], ['approval', false]);
  assert.equal(path('billing.query > services.restart > volumes.delete')?.status, 'blocked', 'a later step\'s approval or allow leaves it blocked');
  assert.equal(path('billing.query > services.restart > secrets.rotate'), undefined, 'an approval tool is no target');
  assert.equal(path('billing.query > volumes.delete')?.status, 'autonomous');
  assert.equal(a.paths.some((x) => x.tools[0] !== undefined && !['billing.query', 'billing.summary', 'volumes.list'].includes(x.tools[0])), false, 'paths start at reads');
  assert.equal(a.paths.some((x) => x.tools.slice(1).some((t) => ['billing.query', 'billing.summary', 'volumes.list'].includes(t))), false, 'and go on through non-reads');
});

test('tooDeepAt and describePath at their bounds', () => {
  for (const v of [5, 'x', null, undefined]) assert.equal(tooDeepAt(v, 0), undefined);
  assert.deepEqual(tooDeepAt({}, 0), []);
  assert.equal(tooDeepAt({ a: 1, b: [1] }, 2), undefined);
  assert.deepEqual(tooDeepAt({ a: 1, b: [1, { c: 2 }] }, 2), ['b', 1]);
  assert.deepEqual(tooDeepAt([[], 1], 1), [0]);
  assert.equal(describePath([]), '');
  const twelve = Array.from({ length: 12 }, (_, i) => i);
  assert.equal(describePath(twelve), '0.1.2.3.4.5.6.7.8.9.10.11');
  assert.equal(describePath([...twelve, 12]), '0.1.2.3.4.5.6.7.8.9.10.11.…');
  assert.equal(describePath(['k'.repeat(41), 'b']), `${'k'.repeat(40)}.b`);
});

test('edges the other tests pass by: a step\'s facts reach the evaluator; path steps one second apart; the session\'s own denial before a ledger\'s; blocked stays blocked', () => {
  const capped = policyOf({ ...quiet, tiers: { destructive: { default: 'autonomous' } }, tools: { 'volumes.delete': { blastRadius: { denyAbove: 10 } } } });
  const seen: string[][] = [];
  replayAcrossSessions(capped, [session('a', [{ ...del(T0), facts: { blastRadius: 11 } }])], ran, (v) => seen.push(v.decision.reasons.map((r) => r.rule)));
  assert.deepEqual(seen, [['blast-radius.cap']]);
  const p = policyOf({
    ...quiet,
    alwaysBlocked: [],
    rateLimits: { perSession: { max: 1, perSeconds: 1 } },
    tools: { 'services.restart': { tier: 'blocked' } },
    transitions: [{ from: 'volumes.list', to: 'volumes.unmount' }],
    owner: { transitions: [{ from: 'volumes.list', to: 'volumes.unmount', within: { minutes: 5 } }] },
  });
  const a = analyzePaths(p, 3);
  const path = (k: string) => a.paths.find((x) => x.tools.join(' > ') === k);
  assert.deepEqual(path('volumes.list > volumes.unmount'), { tools: ['volumes.list', 'volumes.unmount'], status: 'blocked', steps: [{ tool: 'volumes.list', verdict: 'allow', rules: [] }, { tool: 'volumes.unmount', verdict: 'deny', rules: ['transition.forbidden', 'tier.write'] }], unlockable: true });
  assert.deepEqual(path('billing.query > services.restart > volumes.delete'), {
    tools: ['billing.query', 'services.restart', 'volumes.delete'],
    status: 'blocked',
    steps: [{ tool: 'billing.query', verdict: 'allow', rules: [] }, { tool: 'services.restart', verdict: 'deny', rules: ['tool.tier'] }, { tool: 'volumes.delete', verdict: 'approve', rules: ['tier.destructive'] }],
    unlockable: false,
  });
});
