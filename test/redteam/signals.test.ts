/**
 * Red team: messages that would loosen a running session's gate. The attacker is an agent with
 * its own valid credential and a Temporal connection (the stock `temporal` CLI, or the SDK): it
 * forges votes, replays real approvers' signatures it read from workflow histories, signs over the
 * wrong call, forges a deny on another agent's session, lifts a pause with an unsigned resume,
 * votes as itself, leans on an unlock and on a group the ladder has not reached yet.
 *
 * Each case: the production rows are unchanged, the call never executed, an alert (or, for the
 * unlock, the expiry) names the refusal, and `audit verify` holds with the keyset.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SessionHandle } from '../../client';
import type { SignedEnvelope } from '../../policies/trust';
import { TEST_POLICY } from '../workflows/fixtures/catalog';
import { testPolicy } from '../workflows/harness';
import {
  alertEvent,
  assertAuditVerifies,
  assertNotExecuted,
  eventOf,
  impersonatedVote,
  pendingApproval,
  productionSnapshot,
  redTeam,
  selfMadeKey,
  signedVote,
  trust,
  voteFor,
  type Agent,
  type RedTeam,
} from './attacker';
import { eventually } from '../support/eventually';
import { signDecision } from '../../client/trust/sign';
import { voteUpdate } from '../../workflows/contract';

let rt: RedTeam;
let mallory: Agent;

/** The test policy, but an unlock expires in ~4 s while the call's own approval would wait 15 min. */
function unlockQuick() {
  const base = structuredClone(TEST_POLICY);
  return testPolicy({ approvers: { ...base.approvers, transitionUnlock: { groups: ['sre-leads'], approversRequired: 1, timeoutMinutes: 0.07 } } });
}

before(async () => {
  rt = await redTeam('signals', { unlockquick: unlockQuick() });
  mallory = await rt.agent('mallory-bot', 'eng-007', { policies: ['unlockquick'] });
});
after(async () => {
  await rt?.close();
});

const SCALE = (replicas: number) => ({ tool: 'services.scale', args: { service: 'api', replicas }, reasoning: 'load' });

/** `temporal workflow signal` as the attacker. */
async function cliSignal(workflowId: string, name: string, input: unknown): Promise<void> {
  const r = await rt.cli(['workflow', 'signal', '--workflow-id', workflowId, '--name', name, '--input', JSON.stringify(input)]);
  assert.equal(r.code, 0, `temporal workflow signal failed: ${r.stderr}`);
}

/** The vote envelopes a session's history shows: what any holder of a Temporal connection can read. */
async function envelopesInHistory(s: SessionHandle): Promise<SignedEnvelope[]> {
  const history = await s.workflow.fetchHistory();
  const out: SignedEnvelope[] = [];
  for (const e of history.events ?? []) {
    const a = e.workflowExecutionSignaledEventAttributes;
    if (a?.signalName !== 'approval') continue;
    const data = a.input?.payloads?.[0]?.data;
    if (data) out.push(JSON.parse(Buffer.from(data).toString('utf8')) as SignedEnvelope);
  }
  return out;
}

/** Ends a still-pending call with a real approver's deny, then checks the call did not run. */
async function denyAndCheck(s: SessionHandle, pending: Promise<{ status: string }>, before: Record<string, unknown>, proposalSeq: number): Promise<void> {
  const p = await pendingApproval(s, `${s.sessionId}:${proposalSeq}`);
  await s.workflow.signal('approval', signedVote(trust.approver('alice'), voteFor(p, false, 'red team: not this one')));
  assert.equal((await pending).status, 'denied');
  assert.deepEqual(await productionSnapshot(rt.h), before);
  await assertNotExecuted(rt.h, s.sessionId, proposalSeq);
}

describe('forged and replayed approvals', () => {
  it('refuses a forged vote naming a known approver, sent with the stock CLI (unsigned, and under alice\'s key id)', async () => {
    const before = await productionSnapshot(rt.h);
    const s = await mallory.gh.startSession({ intent: 'scale the api' });
    const pending = s.propose(SCALE(7));
    const p = await pendingApproval(s);
    await cliSignal(s.workflowId, 'approval', { approvalId: p.approvalId, approve: true, approver: 'alice' });
    await alertEvent(rt.h, s.sessionId, 'envelope.malformed');
    await cliSignal(s.workflowId, 'approval', impersonatedVote(trust.approver('alice').keyId, voteFor(p)));
    await alertEvent(rt.h, s.sessionId, 'envelope.bad-signature');
    assert.deepEqual((await s.state()).pendingApprovals.map((a) => a.approvedBy), [[]]);
    await denyAndCheck(s, pending, before, 1);
    await s.end({});
    await assertAuditVerifies(rt.h);
  });

  it('refuses a real approval replayed on another call, on another session, after expiry, and the same envelope twice', async () => {
    const s = await mallory.gh.startSession({ intent: 'scale the api' });
    // Call 1 is approved for real by alice; the attacker reads her envelope from the history.
    const first = s.propose(SCALE(4));
    const p1 = await pendingApproval(s);
    await s.workflow.signal('approval', signedVote(trust.approver('alice'), voteFor(p1)));
    assert.equal((await first).status, 'executed');
    const [alices] = await envelopesInHistory(s);
    assert.ok(alices);

    const before = await productionSnapshot(rt.h);
    const second = s.propose(SCALE(40));
    const p2 = await pendingApproval(s, `${s.sessionId}:2`);
    // Another call of the same session.
    await s.workflow.signal('approval', alices);
    await alertEvent(rt.h, s.sessionId, 'decision.replayed');
    // Another session of the same agent, with a call pending.
    const other = await mallory.gh.startSession({ intent: 'scale the api' });
    const otherPending = other.propose(SCALE(41));
    await pendingApproval(other);
    await other.workflow.signal('approval', alices);
    await alertEvent(rt.h, other.sessionId, 'decision.session');
    // A real signature over the right call, but expired (signed 20 min ago, valid 10).
    await s.workflow.signal('approval', signedVote(trust.approver('alice'), voteFor(p2), { now: Date.now() - 20 * 60_000, ttlMs: 10 * 60_000 }));
    await alertEvent(rt.h, s.sessionId, 'decision.expired');
    assert.deepEqual((await s.state()).pendingApprovals.map((a) => a.approvedBy), [[]]);
    await denyAndCheck(s, second, before, 2);
    await denyAndCheck(other, otherPending, before, 1);

    // The same envelope twice: `volumes.delete` needs two sre-leads; carol's vote counts once.
    const del = s.propose({ tool: 'volumes.delete', args: { volumeId: 'vol-scratch01' }, reasoning: 'unused' });
    const p3 = await pendingApproval(s, `${s.sessionId}:3`);
    const carols = signedVote(trust.approver('carol'), voteFor(p3));
    await s.workflow.signal('approval', carols);
    await s.workflow.signal('approval', carols);
    await alertEvent(rt.h, s.sessionId, 'decision.replayed', 2);
    assert.deepEqual((await s.state()).pendingApprovals.map((a) => a.approvedBy), [['carol']]);
    await s.workflow.signal('approval', signedVote(trust.approver('dave'), voteFor(p3, false, 'keep the scratch volume')));
    assert.equal((await del).status, 'denied');
    assert.deepEqual(await productionSnapshot(rt.h), before);
    await assertNotExecuted(rt.h, s.sessionId, 3);
    await s.end({});
    await other.end({});
    await assertAuditVerifies(rt.h);
  });

  it('refuses a validly signed vote over another call\'s digest', async () => {
    const before = await productionSnapshot(rt.h);
    const s = await mallory.gh.startSession({ intent: 'scale the api' });
    // A harmless call the attacker gets approved would give it a digest; any other call's digest will do.
    const first = s.propose(SCALE(2));
    const p1 = await pendingApproval(s);
    await s.workflow.signal('approval', signedVote(trust.approver('alice'), voteFor(p1, false, 'not now')));
    assert.equal((await first).status, 'denied');
    const second = s.propose(SCALE(50));
    const p2 = await pendingApproval(s, `${s.sessionId}:2`);
    await s.workflow.signal('approval', signedVote(trust.approver('alice'), { ...voteFor(p2), callDigest: p1.callDigest }));
    const alert = await alertEvent(rt.h, s.sessionId, 'approval.digest');
    assert.equal(alert.approver, 'alice');
    await denyAndCheck(s, second, before, 2);
    await s.end({});
    await assertAuditVerifies(rt.h);
  });

  it('the vote update takes forgeries no better than the signal: each answered refused under its rule, nothing counted', async () => {
    const before = await productionSnapshot(rt.h);
    const s = await mallory.gh.startSession({ intent: 'scale the api' });
    const pending = s.propose(SCALE(9));
    const p = await pendingApproval(s);
    // The attacker sends the update itself and reads the answer: it learns the rule, which its alert names anyway.
    const sent = (envelope: unknown) => s.workflow.executeUpdate(voteUpdate, { args: [envelope as SignedEnvelope] });
    const unsigned = await sent({ approvalId: p.approvalId, approve: true, approver: 'alice' });
    assert.equal(unsigned.counted === false && unsigned.rule, 'envelope.malformed');
    await alertEvent(rt.h, s.sessionId, 'envelope.malformed');
    const forged = await sent(impersonatedVote(trust.approver('alice').keyId, voteFor(p)));
    assert.equal(forged.counted === false && forged.rule, 'envelope.bad-signature');
    await alertEvent(rt.h, s.sessionId, 'envelope.bad-signature');
    const self = await sent(signedVote(selfMadeKey('alice'), voteFor(p)));
    assert.equal(self.counted === false && self.rule, 'envelope.unknown-key');
    await alertEvent(rt.h, s.sessionId, 'envelope.unknown-key');
    assert.deepEqual((await s.state()).pendingApprovals.map((a) => a.approvedBy), [[]]);
    await denyAndCheck(s, pending, before, 1);
    await s.end({});
    await assertAuditVerifies(rt.h);
  });

  it('refuses a deny forged on another agent\'s session with a key not in the keyset', async () => {
    const victim = await rt.agent('victim-bot', 'eng-012');
    const before = await productionSnapshot(rt.h);
    const s = await victim.gh.startSession({ intent: 'scale the api' });
    const pending = s.propose(SCALE(6));
    const p = await pendingApproval(s);
    // Mallory reaches the victim's workflow with her own connection.
    const onVictim = mallory.gh.session(s.sessionId).workflow;
    await onVictim.signal('approval', signedVote(selfMadeKey('alice'), voteFor(p, false, 'blocked by alice')));
    await alertEvent(rt.h, s.sessionId, 'envelope.unknown-key');
    await onVictim.signal('approval', impersonatedVote(trust.approver('alice').keyId, voteFor(p, false, 'blocked by alice')));
    await alertEvent(rt.h, s.sessionId, 'envelope.bad-signature');
    const events = await rt.h.events(s.sessionId);
    assert.deepEqual(events.filter((e) => e.kind === 'denied'), []);
    assert.equal((await s.state()).pendingApprovals.length, 1);
    await denyAndCheck(s, pending, before, 1);
    await s.end({});
    await assertAuditVerifies(rt.h);
  });
});

describe('fleet controls', () => {
  it('an unsigned resume after a pause (stock CLI) lifts nothing; neither does one signed by a non-operator', async () => {
    const agent = await rt.agent(`paused-bot-${Date.now()}`, 'eng-007');
    const before = await productionSnapshot(rt.h);
    const s = await agent.gh.startSession({ intent: 'write numbered rows to the staging config' });
    // The operator pauses the agent's sessions (`gatehouse pause --agent`); listings are eventually consistent.
    await eventually(async () => ((await rt.h.gh.pause({ agentId: agent.agentId }, 'oncall', 'incident')).includes(s.sessionId) ? true : undefined), { what: 'the fleet pause to reach the session' });
    await eventually(async () => ((await s.state()).paused ? true : undefined), { what: 'the session to be paused' });
    const held = s.propose({ tool: 'test.slowWrite', args: { n: 1 }, reasoning: 'write a row' });
    await cliSignal(s.workflowId, 'resume', { by: 'oncall' });
    await alertEvent(rt.h, s.sessionId, 'envelope.malformed');
    const view = await s.state();
    await s.workflow.signal('resume', signDecision(trust.approver('alice'), { kind: 'resume', workflowId: view.workflowId, firstRunId: view.firstRunId }));
    await alertEvent(rt.h, s.sessionId, 'decision.role');
    await cliSignal(s.workflowId, 'resume', signDecision({ ...selfMadeKey('test-operator'), role: 'operator' }, { kind: 'resume', workflowId: view.workflowId, firstRunId: view.firstRunId }));
    await alertEvent(rt.h, s.sessionId, 'envelope.unknown-key');
    const still = await s.state();
    assert.equal(still.paused, true);
    assert.equal(still.counters.proposals, 0);
    // Stopping needs no signature: the halt denies the held call.
    await rt.h.gh.halt(s.sessionId, { by: 'oncall', reason: 'red team done' });
    const r = await held;
    assert.equal(r.status, 'denied');
    assert.equal(r.decision.reasons[0]?.rule, 'session.halted');
    assert.deepEqual(await productionSnapshot(rt.h), before);
    await assertNotExecuted(rt.h, s.sessionId);
    assert.deepEqual((await rt.h.events(s.sessionId)).filter((e) => e.kind === 'resumed'), []);
    await assertAuditVerifies(rt.h);
  });
});

describe('who may decide', () => {
  it('an agent whose credential names itself as owner may not approve its own call', async () => {
    const self = await rt.agent('billing-bot', 'billing-bot');
    const before = await productionSnapshot(rt.h);
    const s = await self.gh.startSession({ intent: 'scale the api' });
    const pending = s.propose(SCALE(3));
    const p = await pendingApproval(s);
    // Suppose the agent got hold of the key registered under its own name.
    await s.workflow.signal('approval', signedVote(trust.approver('billing-bot'), voteFor(p)));
    await alertEvent(rt.h, s.sessionId, 'approval.self');
    assert.deepEqual((await s.state()).pendingApprovals.map((a) => a.approvedBy), [[]]);
    await denyAndCheck(s, pending, before, 1);
    await s.end({});
    await assertAuditVerifies(rt.h);
  });

  it('an unlock approved by the unlock group only never runs the call; with no own-group vote it expires', async () => {
    const s = await mallory.gh.startSession({ intent: 'tidy volumes', policyRef: 'unlockquick' });
    assert.equal((await s.propose({ tool: 'volumes.list', args: {}, reasoning: 'look' })).status, 'executed');
    const before = await productionSnapshot(rt.h);
    const pending = s.propose({ tool: 'volumes.unmount', args: { volumeId: 'vol-cache01' }, reasoning: 'unmount', requestUnlock: true });
    const p = await pendingApproval(s);
    assert.deepEqual(p.groups, ['sre-leads']);
    await s.workflow.signal('approval', signedVote(trust.approver('carol'), voteFor(p)));
    await s.workflow.signal('approval', signedVote(trust.approver('dave'), voteFor(p)));
    await eventually(async () => ((await rt.h.events(s.sessionId)).filter((e) => e.kind === 'approved').length === 2 ? true : undefined), { what: 'both unlock votes counted' });
    const r = await pending;
    assert.equal(r.status, 'expired');
    assert.ok(r.decision.reasons.some((x) => x.rule === 'approval.expired'));
    const expired = await eventOf(rt.h, s.sessionId, 'expired');
    assert.equal(expired.proposal_seq, 2);
    assert.deepEqual(await productionSnapshot(rt.h), before);
    await assertNotExecuted(rt.h, s.sessionId, 2);
    await s.end({});
    await assertAuditVerifies(rt.h);
  });

  it('a vote from a group the ladder has not reached yet does not count; nor does a deny without a reason', async () => {
    const before = await productionSnapshot(rt.h);
    const s = await mallory.gh.startSession({ intent: 'scale the api' });
    const pending = s.propose(SCALE(12));
    const p = await pendingApproval(s);
    assert.deepEqual(p.groups, ['on-call', 'sre-leads']);
    await s.workflow.signal('approval', signedVote(trust.approver('carol'), voteFor(p)));
    const alert = await alertEvent(rt.h, s.sessionId, 'approval.not-member');
    assert.equal(alert.approver, 'carol');
    await s.workflow.signal('approval', signedVote(trust.approver('bob'), voteFor(p, false)));
    await alertEvent(rt.h, s.sessionId, 'approval.reason-required');
    assert.deepEqual((await s.state()).pendingApprovals.map((a) => a.approvedBy), [[]]);
    await denyAndCheck(s, pending, before, 1);
    await s.end({});
    await assertAuditVerifies(rt.h);
  });
});
