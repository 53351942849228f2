/**
 * Red team: continue-as-new. Runs are short (the worker's `sessionHistoryLimit`, 40 events here: a
 * new run every few proposals), and the agent can push its session past the bound whenever it
 * likes. What a run decided must not be forgotten by the next: a late vote is still answered
 * `approval.decided`, a vote or resume replayed from an earlier run is still `decision.replayed`, a
 * pending approval keeps the run from continuing until it is decided (once), and budgets, rate
 * windows and forbidden sequences count across runs exactly as in one run.
 *
 * Each refusal: production rows unchanged, no second `executed` event, an alert naming it, `audit verify` holds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SessionHandle } from '../../client';
import { signDecision } from '../../client/trust/sign';
import type { SignedEnvelope } from '../../policies/trust';
import { describeCatalog } from '../../activities/tools/catalog';
import { advance, compilePolicy, evaluate, initialSessionState } from '../../policies';
import type { Proposal } from '../../policies/types';
import { createCatalog } from '../workflows/fixtures/catalog';
import { testPolicy } from '../workflows/harness';
import { eventually } from '../support/eventually';
import { assertAuditVerifies, pendingApproval, productionSnapshot, redTeam, signedVote, trust, voteFor, type Agent, type RedTeam } from './attacker';

/** The bound: a session start and four or five proposals. */
const BOUND = 40;

let rt: RedTeam;
let agent: Agent;

/** A per-tool rate window of 6 an hour (the sessions add a write budget of 3), to count across runs. */
const COUNTED = testPolicy({ rateLimits: { perTool: { max: 6, perSeconds: 3600 }, perSession: { max: 1000, perSeconds: 60 } } });

before(async () => {
  rt = await redTeam('continue_as_new', { counted: COUNTED }, { sessionHistoryLimit: BOUND });
  agent = await rt.agent('runs-bot', 'eng-007', { policies: ['counted'] });
});
after(async () => {
  await rt?.close();
});

const SCALE = { tool: 'services.scale', args: { service: 'api', replicas: 4 }, reasoning: 'load' };
const LIST = { tool: 'volumes.list', args: {}, reasoning: 'look' };

const runId = async (s: SessionHandle): Promise<string> => (await s.workflow.describe()).runId;

/** Proposes reads until the session has continued as new from `from` (each is one more step of history). */
async function untilContinued(s: SessionHandle, from: string): Promise<void> {
  for (let i = 0; i < 12 && (await runId(s)) === from; i++) assert.equal((await s.propose(LIST)).status, 'executed');
  assert.notEqual(await runId(s), from, 'the session should have continued as new');
}

/** The alert a signal caused (the first alert of `rule` after `afterSeq`). */
async function signalAlert(s: SessionHandle, name: 'approval' | 'resume', envelope: unknown, rule: string): Promise<void> {
  const from = (await rt.h.events(s.sessionId)).at(-1)?.seq ?? 0;
  await s.workflow.signal(name, envelope);
  const e = await eventually(async () => (await rt.h.events(s.sessionId)).find((x) => x.seq > from && ['alert', 'approved', 'denied', 'resumed'].includes(x.kind)), { what: `a reaction in ${s.sessionId}` });
  assert.equal(e.kind === 'alert' ? e.detail?.rule : e.kind, rule);
}

describe('continue-as-new: what a run decided, the next run knows', () => {
  it('a pending approval holds the run past its bound and is approved once; after the new run a late vote is `approval.decided`, and its votes and a resume replayed are `decision.replayed`', async () => {
    const s = await agent.gh.startSession({ intent: 'scale the api' });
    const first = await runId(s);
    const held = s.propose(SCALE);
    const p = await pendingApproval(s);
    // Queued behind the held call, their updates take the run past its bound while it waits.
    const queued = [1, 2, 3, 4, 5, 6].map(() => s.propose(LIST));
    await eventually(async () => (((await s.workflow.fetchHistory()).events?.length ?? 0) > BOUND ? true : undefined), { what: 'the run past its bound' });
    assert.equal(await runId(s), first, 'a run with an approval open continued as new');
    assert.deepEqual((await s.state()).pendingApprovals.map((a) => a.approvalId), [p.approvalId], 'the approval survives');

    // One approver decides it; carol's click after it reaches this run or the next (a race): decided either way.
    const alice = signedVote(trust.approver('alice'), voteFor(p));
    await signalAlert(s, 'approval', alice, 'approved');
    await signalAlert(s, 'approval', signedVote(trust.approver('carol'), voteFor(p)), 'approval.decided');
    assert.equal((await held).status, 'executed');
    for (const q of queued) assert.equal((await q).status, 'executed');
    await eventually(async () => ((await runId(s)) !== first ? true : undefined), { what: 'the run to continue as new once the approval was decided' });

    // In the new run: a second approver clicking late, the counted votes replayed, a resume replayed.
    const before = await productionSnapshot(rt.h);
    await signalAlert(s, 'approval', signedVote(trust.approver('bob'), voteFor(p)), 'approval.decided');
    await signalAlert(s, 'approval', signedVote(trust.approver('dave'), voteFor(p, false, 'too late')), 'approval.decided');
    await signalAlert(s, 'approval', alice, 'decision.replayed');
    const v = await s.state();
    await s.workflow.signal('pause', { by: 'oncall', reason: 'look first' });
    await eventually(async () => ((await s.state()).paused ? true : undefined), { what: 'paused' });
    const resume: SignedEnvelope = signDecision(trust.operator, { kind: 'resume', workflowId: v.workflowId, firstRunId: v.firstRunId });
    await signalAlert(s, 'resume', resume, 'resumed');
    const second = await runId(s);
    await untilContinued(s, second);
    await s.workflow.signal('pause', { by: 'oncall', reason: 'again' });
    await eventually(async () => ((await s.state()).paused ? true : undefined), { what: 'paused again' });
    await signalAlert(s, 'resume', resume, 'decision.replayed');
    assert.equal((await s.state()).paused, true, 'a resume replayed from an earlier run lifted the pause');
    await signalAlert(s, 'approval', alice, 'decision.replayed');
    await signalAlert(s, 'approval', signedVote(trust.approver('bob'), voteFor(p)), 'approval.decided');

    // Nothing ran twice: one `executed` for the approved call, production as it was after it.
    const events = await rt.h.events(s.sessionId);
    assert.equal(events.filter((e) => e.kind === 'executed' && e.tool === 'services.scale').length, 1);
    assert.deepEqual((await productionSnapshot(rt.h)).services, before.services);
    assert.deepEqual(events.filter((e) => e.kind === 'approved').map((e) => e.approver), ['alice']);
    await s.workflow.signal('resume', signDecision(trust.operator, { kind: 'resume', workflowId: v.workflowId, firstRunId: v.firstRunId }));
    await eventually(async () => ((await s.state()).paused ? undefined : true), { what: 'resumed by a fresh envelope' });
    await s.end({});
    await assertAuditVerifies(rt.h);
  });

  it('budgets, rate windows and forbidden sequences count across runs exactly as the policy engine does in one state', async () => {
    const s = await agent.gh.startSession({ intent: 'write config values and look at volumes', policyRef: 'counted', budget: { writes: 3 } });
    // The reference: the pure engine, one state, no runs.
    const policy = compilePolicy(COUNTED, describeCatalog(createCatalog({ productionPool: rt.h.production.pool })).map((d) => ({ name: d.name, description: d.description, effect: d.effect, environment: d.environment, resource: d.resource, estimatesBlastRadius: d.estimatesBlastRadius })));
    let state = initialSessionState(policy, { startedAt: Date.now(), budget: { writes: 3 } });
    const runs = new Set([await runId(s)]);
    const seen: string[] = [];
    const expected: string[] = [];
    const propose = async (p: Proposal) => {
      const r = await s.propose(p);
      seen.push(`${p.tool} ${r.status} ${r.decision.reasons.map((x) => x.rule).join('+')}`);
      runs.add(await runId(s));
      const d = evaluate(policy, state, p, {}, Date.now());
      assert.equal(d.verdict === 'approve', false, `${p.tool} asks for approval: not part of this sequence`);
      const status = d.verdict === 'allow' ? 'executed' : 'denied';
      expected.push(`${p.tool} ${status} ${d.reasons.map((x) => x.rule).join('+')}`);
      state = advance(policy, state, p, status, Date.now());
    };
    // The list starts the forbidden sequence; the unmount comes several runs later.
    for (let i = 0; i < 8; i++) await propose(LIST);
    for (let i = 0; i < 5; i++) await propose({ tool: 'staging.writeConfig', args: { key: `k${i}`, value: 'v' }, reasoning: 'write' });
    await propose({ tool: 'volumes.unmount', args: { volumeId: 'vol-scratch01' }, reasoning: 'unmount' });
    assert.ok(runs.size >= 3, `the calls should span several runs, saw ${runs.size}`);
    assert.deepEqual(seen, expected);
    // The sequence reaches each carried count: the rate window, the write budget, the forbidden transition.
    for (const rule of ['rate.tool', 'budget.writes', 'transition.forbidden']) assert.ok(seen.some((x) => x.split(' ')[2]!.split('+').includes(rule)), `no call was refused by \`${rule}\``);
    const v = await s.state();
    assert.equal(v.budgetLeft.writes, 0);
    assert.equal(v.counters.executed, 9);
    await s.end({});
    await assertAuditVerifies(rt.h);
  });
});
