/**
 * Red team: the cross-session ledger. The attacker holds its own credential and a Temporal client,
 * and tries to loosen its agent-wide rules: squat the update id of its next reservation with a
 * harmless request, flood the ledger with requests carrying loose or no rules, send a `release`,
 * start its ledger with forged carried state. Each time the genuine call stays denied and never ran.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { emptyLedger, LEASE_MAX, ledgerRules, ruleNames, type LedgerRequest, type LedgerRule } from '../../policies';
import { sessionWorkflowId } from '../../workflows/contract';
import { LEDGER_WORKFLOW_TYPE, ledgerQuery, ledgerWorkflowId, parseLedgerWorkflowId, reserveUpdate, returnLeasesUpdate } from '../../workflows/ledger-contract';
import { testPolicy } from '../workflows/harness';
import { assertAuditVerifies, assertNotExecuted, assertRunFailed, productionSnapshot, redTeam, type Agent, type RedTeam } from './attacker';

const CROSS = testPolicy({
  name: 'cross',
  transitions: [],
  tools: { 'volumes.unmount': { tier: 'autonomous' } },
  agent: { transitions: [{ from: 'volumes.list', to: 'volumes.unmount', within: { minutes: 30 } }], budgets: [{ tools: ['staging.writeConfig'], max: 1, windowMinutes: 60 }] },
});
/** A budget with room to lease (15 calls with the first reservation). */
const LEASED = testPolicy({ name: 'leased', transitions: [], agent: { budgets: [{ tools: ['staging.writeConfig'], max: 1_000, windowMinutes: 60 }] } });
const UNMOUNT = { tool: 'volumes.unmount', args: { volumeId: 'vol-cache01' }, reasoning: 'free it' };

let rt: RedTeam;
let mallory: Agent;

before(async () => {
  rt = await redTeam('ledger', { cross: CROSS, leased: LEASED });
  mallory = await rt.agent(`mallory-${randomBytes(3).toString('hex')}`, 'eng-007', { policies: ['cross', 'leased'] });
});
after(async () => {
  await rt?.close();
});

/** What the attacker sends with its raw client: a `reserve` to its own ledger, starting it if needed. */
function forgeReserve(request: LedgerRequest, startArgs: unknown[] = [{}], agent: Agent = mallory) {
  return rt.raw.workflow.executeUpdateWithStart(reserveUpdate, {
    args: [request],
    updateId: request.reservationId,
    startWorkflowOperation: new WithStartWorkflowOperation(LEDGER_WORKFLOW_TYPE, { workflowId: ledgerWorkflowId('agent', agent.agentId), taskQueue: rt.h.taskQueue, workflowIdConflictPolicy: 'USE_EXISTING', args: startArgs as [] }),
  });
}

describe('the agent cannot loosen its cross-session ledger', () => {
  it('squatting the update id of its next reservation gets the genuine call denied, not allowed', async () => {
    const before = await productionSnapshot(rt.h);
    const a = await mallory.gh.startSession({ intent: 'inventory', policyRef: 'cross' });
    assert.equal((await a.propose({ tool: 'volumes.list', args: {}, reasoning: 'look' })).status, 'executed');
    const b = await mallory.gh.startSession({ intent: 'free a volume', policyRef: 'cross' });
    // The next reservation of session b is `<b>:p1`: the attacker decides it first, with no rules.
    const squat = await forgeReserve({ reservationId: `${b.sessionId}:p1`, sessionId: b.sessionId, tool: 'volumes.unmount', rules: [] });
    assert.equal(squat.verdict, 'allow');
    const r = await b.propose(UNMOUNT);
    assert.equal(r.status, 'denied');
    assert.deepEqual(r.decision.reasons.map((x) => x.rule), ['ledger.conflict']);
    await assertNotExecuted(rt.h, b.sessionId);
    assert.deepEqual(await productionSnapshot(rt.h), before);
  });

  it('its future call\'s own request, sent ahead, does not count the call early: the genuine call is denied, not allowed', async () => {
    const before = await productionSnapshot(rt.h);
    // An agent whose ledger has seen no `volumes.list` yet.
    const eve = await rt.agent(`eve-${randomBytes(3).toString('hex')}`, 'eng-007', { policies: ['cross'] });
    const b = await eve.gh.startSession({ intent: 'free a volume', policyRef: 'cross' });
    // Exactly what session b will send for its first call, rules, lease and all (the lease key is not in the digest).
    const rules = ledgerRules(CROSS.agent!).filter((r) => ruleNames(r, 'volumes.unmount'));
    const genuine = { sessionId: b.sessionId, tool: 'volumes.unmount', rules, lease: LEASE_MAX, leaseKey: 'a'.repeat(64) };
    const banked = await forgeReserve({ reservationId: `${b.sessionId}:p1`, ...genuine }, [{}], eve);
    assert.equal(banked.verdict, 'allow');
    // One naming a time of its own must name the call's millisecond, and far from the ledger's clock it is stale.
    const ahead = await forgeReserve({ reservationId: `${b.sessionId}:p2`, ...genuine, at: Date.now() + 3_600_000 }, [{}], eve);
    assert.deepEqual([ahead.verdict, ahead.reasons.map((x) => x.rule)], ['deny', ['ledger.stale']]);
    const a = await eve.gh.startSession({ intent: 'inventory', policyRef: 'cross' });
    assert.equal((await a.propose({ tool: 'volumes.list', args: {}, reasoning: 'look' })).status, 'executed');
    const r = await b.propose(UNMOUNT);
    assert.deepEqual([r.status, r.decision.reasons.map((x) => x.rule)], ['denied', ['ledger.conflict']]);
    await assertNotExecuted(rt.h, b.sessionId);
    assert.deepEqual(await productionSnapshot(rt.h), before);
    await Promise.all([a.end({}), b.end({})]);
  });

  it('requests with loose or no rules, however many, leave the genuine transition and budget in force', async () => {
    const loose: LedgerRule = { kind: 'budget', id: 'staging.writeConfig', tools: ['staging.writeConfig'], max: 1_000_000, windowMs: 60_000 };
    for (let i = 0; i < 30; i++) await forgeReserve({ reservationId: `forged:${i}`, sessionId: 'forged', tool: i % 2 ? 'volumes.unmount' : 'staging.writeConfig', rules: i % 3 ? [loose] : [] });
    const c = await mallory.gh.startSession({ intent: 'free a volume', policyRef: 'cross' });
    const r = await c.propose(UNMOUNT);
    assert.deepEqual(r.decision.reasons.map((x) => x.rule), ['agent.sequence']);
    // Writes in a session of their own whose intent they fit (else intent drift asks a human first).
    const w = await mallory.gh.startSession({ intent: 'write config values in staging', policyRef: 'cross' });
    const w1 = await w.propose({ tool: 'staging.writeConfig', args: { key: 'a', value: 'b' }, reasoning: 'x' });
    const w2 = await w.propose({ tool: 'staging.writeConfig', args: { key: 'a', value: 'c' }, reasoning: 'x' });
    assert.deepEqual([w1.status, w2.status], ['executed', 'denied']);
    assert.equal(w2.decision.reasons[0]?.rule, 'agent.budget');
    await assertNotExecuted(rt.h, c.sessionId, 1);
  });

  it('there is no update that releases or resets, and malformed reservations are rejected by the validator', async () => {
    const handle = rt.raw.workflow.getHandle(ledgerWorkflowId('agent', mallory.agentId));
    const before = await handle.query(ledgerQuery);
    await assert.rejects(handle.executeUpdate('release', { args: [{ reservationId: 'x' }] }));
    await assert.rejects(handle.executeUpdate('reset', { args: [] }));
    await assert.rejects(handle.executeUpdate(reserveUpdate, { args: [{ reservationId: 'y', sessionId: 'y', tool: 'volumes.unmount', rules: [{ kind: 'release', id: 'r' }] } as never] }), (err: Error) => {
      assert.match(String((err.cause as Error | undefined)?.message), /expected a rule of kind `budget` or `transition`/);
      return true;
    });
    await handle.signal('release', {}); // a signal nobody handles: buffered, changes nothing
    assert.deepEqual((await handle.query(ledgerQuery)).budgets, before.budgets);
  });

  it('a lease cannot be handed back by a forged return (its id is guessable, its secret is not): its calls stay counted', async () => {
    const s = await mallory.gh.startSession({ intent: 'write config values in staging', policyRef: 'leased' });
    assert.equal((await s.propose({ tool: 'staging.writeConfig', args: { key: 'l', value: '1' }, reasoning: 'x' })).status, 'executed');
    const handle = rt.raw.workflow.getHandle(ledgerWorkflowId('agent', mallory.agentId));
    const total = async () => Object.values((await handle.query(ledgerQuery)).budgets).reduce((a, b) => a + b, 0);
    const leased = await total();
    const leaseId = `${s.sessionId}:p1`;
    for (const [i, token] of [undefined, 'guess'].entries()) {
      const forged = await handle.executeUpdate(returnLeasesUpdate, { args: [{ returnId: `${s.sessionId}:r-forged${i}`, sessionId: s.sessionId, returns: [{ leaseId, used: [], ...(token ? { token } : {}) }] }] });
      assert.equal(forged.returned, 0);
    }
    // Piggybacked on a forged reservation, too.
    await forgeReserve({ reservationId: `${s.sessionId}:p-forged`, sessionId: s.sessionId, tool: 'volumes.list', rules: [], returns: [{ leaseId, used: [], token: 'guess' }] });
    assert.equal(await total(), leased);
    // The session's own return at its end frees the 15 calls it leased and did not spend.
    await s.end({});
    assert.equal(await total(), leased - 15);
  });

  it('a ledger started with forged carried state, or under a non-ledger id, is refused', async () => {
    const victim = ledgerWorkflowId('agent', `fresh-${randomBytes(3).toString('hex')}`);
    const forged = await rt.raw.workflow.start(LEDGER_WORKFLOW_TYPE, { workflowId: victim, taskQueue: rt.h.taskQueue, args: [{}, { state: emptyLedger() }] as never });
    await assertRunFailed(rt.raw, victim, forged.firstExecutionRunId, 'LedgerStartRefusedError');
    const odd = `not-a-ledger-${randomBytes(3).toString('hex')}`;
    const run = await rt.raw.workflow.start(LEDGER_WORKFLOW_TYPE, { workflowId: odd, taskQueue: rt.h.taskQueue, args: [{}] as never });
    await assertRunFailed(rt.raw, odd, run.firstExecutionRunId, 'LedgerStartRefusedError');
    // The gateway only ever addresses `session-<id>` workflows: no session id names a ledger.
    assert.equal(parseLedgerWorkflowId(sessionWorkflowId(`ledger-agent-${mallory.agentId}`)), undefined);
    await assertAuditVerifies(rt.h);
  });
});
