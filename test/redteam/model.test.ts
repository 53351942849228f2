/**
 * Red team, model-based: fast-check drives a real session with random sequences of proposals
 * (autonomous, approval-tier, forbidden transitions with and without an unlock request) and
 * messages (valid votes, unsigned, forged, replayed, wrong-digest, wrong-session votes; unsigned
 * and signed resumes after a pause). After every sequence:
 *
 * - every `executed` event is either autonomous under the worker's own policy (re-derived here
 *   from the policy document and the catalog, not from the trail's say-so) or belongs to a call
 *   with an `approval-requested` event and valid signed approvals over its digest (the vote
 *   evidence check of `audit verify`);
 * - every counted vote is one a real approver signed for this session; every forged, replayed,
 *   wrong-digest or wrong-session one raised exactly the alert the model predicts;
 * - an unsigned resume never lifts a pause; the audit chain and vote evidence verify.
 *
 * `GATEHOUSE_MODEL_RUNS` sets how many random sequences run (default 8).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { SessionHandle } from '../../client';
import { describeCatalog } from '../../activities/tools/catalog';
import { checkVoteEvidence } from '../../audit/vote-evidence';
import { formatVerifyReport, verifyDatabase } from '../../audit/verify';
import { readEvents } from '../../audit/queries';
import { signDecision } from '../../client/trust/sign';
import { compilePolicy, evaluate, initialSessionState, type PolicyDocument } from '../../policies';
import type { SignedEnvelope } from '../../policies/trust';
import type { SessionProposal } from '../../workflows/contract';
import { TEST_POLICY, createCatalog } from '../workflows/fixtures/catalog';
import { testPolicy } from '../workflows/harness';
import { impersonatedVote, redTeam, selfMadeKey, signedVote, trust, type Agent, type AuditRow, type RedTeam, type VoteFields } from './attacker';
import { eventually } from '../support/eventually';
import { SHORT_HISTORY_LIMIT } from '../../workflows/session';

/**
 * The test policy with four eyes. Every sequence closes each approval it opens, so no deadline is part
 * of the property: deadlines are two minutes, far beyond a loaded CI's slowest approval phase (the
 * eight-message example took 2.5 s on 2 cores with six busy loops beside it; CI failed once on 6 s).
 */
function modelPolicy(): PolicyDocument {
  const base = structuredClone(TEST_POLICY);
  return testPolicy({
    approvers: {
      ...base.approvers,
      default: { groups: ['on-call', 'sre-leads'], timeoutMinutes: 2, escalateAfterMinutes: [1], fourEyes: true },
      transitionUnlock: { groups: ['sre-leads'], approversRequired: 1, timeoutMinutes: 2 },
    },
  });
}

type ProposalKind = 'autonomous' | 'approval' | 'forbidden' | 'unlock';
type MessageKind = 'valid' | 'unsigned' | 'unknown-key' | 'bad-signature' | 'replayed' | 'wrong-digest' | 'wrong-session';
interface Step {
  readonly pause: 'none' | 'unsigned-then-signed-resume';
  readonly kind: ProposalKind;
  readonly replicas: number;
  readonly messages: readonly MessageKind[];
  readonly closer: 'approve' | 'deny';
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  pause: fc.constantFrom('none', 'none', 'unsigned-then-signed-resume'),
  kind: fc.constantFrom<ProposalKind>('autonomous', 'approval', 'forbidden', 'unlock'),
  replicas: fc.integer({ min: 0, max: 50 }),
  messages: fc.array(fc.constantFrom<MessageKind>('valid', 'unsigned', 'unknown-key', 'bad-signature', 'replayed', 'wrong-digest', 'wrong-session'), { maxLength: 3 }),
  closer: fc.constantFrom('approve', 'deny'),
});

let rt: RedTeam;
let agent: Agent;
let other: SessionHandle;
let autonomousTools: (tool: string, args: Record<string, unknown>) => boolean;

before(async () => {
  // Runs at the short bound (a busy worker's): the sequences below cross run boundaries, where bugs were found.
  rt = await redTeam('model', { model: modelPolicy() }, { sessionHistoryLimit: SHORT_HISTORY_LIMIT });
  agent = await rt.agent('model-bot', 'eng-012', { policies: ['model'] });
  // A second session of the same agent: the source of wrong-session votes.
  other = await agent.gh.startSession({ intent: 'scale the api', policyRef: 'model' });
  // The worker's own policy, re-derived: which calls it lets run with nobody asked.
  const descriptors = describeCatalog(createCatalog({ productionPool: rt.h.production.pool }));
  const compiled = compilePolicy(modelPolicy(), descriptors.map((d) => ({ name: d.name, description: d.description, effect: d.effect, environment: d.environment, resource: d.resource, estimatesBlastRadius: d.estimatesBlastRadius })));
  autonomousTools = (tool, args) => {
    const now = Date.now();
    return evaluate(compiled, initialSessionState(compiled, { startedAt: now }), { tool, args, reasoning: '' }, {}, now).tier === 'autonomous';
  };
});
after(async () => {
  await other?.end({}).catch(() => undefined);
  await rt?.close();
});

/** Waits for the event a message caused: the first alert / approved / denied / resumed after `afterSeq`. */
function reaction(sessionId: string, afterSeq: number): Promise<AuditRow> {
  return eventually(async () =>
    (await rt.h.events(sessionId)).find((e) => e.seq > afterSeq && ['alert', 'approved', 'denied', 'resumed'].includes(e.kind)), { what: `a reaction after seq ${afterSeq} in ${sessionId}` });
}

async function lastSeq(sessionId: string): Promise<number> {
  const events = await rt.h.events(sessionId);
  return events[events.length - 1]?.seq ?? 0;
}

/** One sequence against one fresh session; returns what the property checks need. */
async function play(steps: readonly Step[]): Promise<void> {
  const s = await agent.gh.startSession({ intent: 'scale the api and tidy volumes', policyRef: 'model' });
  const otherView = await other.state();
  /** Envelopes the session verified (counted or not): a resend is a replay. */
  const delivered: SignedEnvelope[] = [];
  /** Signers of the votes real approvers sent, per approval id. */
  const genuine = new Map<string, Set<string>>();
  let lastDigest: string | undefined;

  const send = async (name: 'approval' | 'resume', envelope: unknown, expected: string | ((e: AuditRow) => void)): Promise<AuditRow> => {
    const from = await lastSeq(s.sessionId);
    await s.workflow.signal(name, envelope);
    const e = await reaction(s.sessionId, from);
    if (typeof expected === 'string') assert.equal(e.kind === 'alert' ? String(e.detail?.rule) : e.kind, expected, `message ${JSON.stringify(envelope).slice(0, 120)}`);
    else expected(e);
    return e;
  };

  for (const step of steps) {
    if (step.pause !== 'none') {
      await s.workflow.signal('pause', { by: 'oncall', reason: 'model' });
      await eventually(async () => ((await s.state()).paused ? true : undefined), { what: 'paused' });
      await send('resume', { by: 'model-bot' }, 'envelope.malformed');
      assert.equal((await s.state()).paused, true, 'an unsigned resume lifted the pause');
      const v = await s.state();
      await send('resume', signDecision(trust.operator, { kind: 'resume', workflowId: v.workflowId, firstRunId: v.firstRunId }), 'resumed');
      assert.equal((await s.state()).paused, false);
    }

    let proposal: SessionProposal;
    if (step.kind === 'autonomous') proposal = { tool: 'staging.writeConfig', args: { key: 'model.flag', value: String(step.replicas) }, reasoning: 'config' };
    else if (step.kind === 'approval') proposal = { tool: 'services.scale', args: { service: 'api', replicas: step.replicas }, reasoning: 'load' };
    else {
      assert.equal((await s.propose({ tool: 'volumes.list', args: {}, reasoning: 'look' })).status, 'executed');
      proposal = { tool: 'volumes.unmount', args: { volumeId: 'vol-cache01' }, reasoning: 'unmount', ...(step.kind === 'unlock' ? { requestUnlock: true } : {}) };
    }
    const before = (await s.state()).counters.proposals;
    const result = s.propose(proposal);
    // Wait until the call either finished or asks for approval.
    const pending = await eventually(async () => {
      const v = await s.state();
      if (v.pendingApprovals[0]) return { p: v.pendingApprovals[0], v };
      return v.counters.proposals > before ? null : undefined;
    }, { what: 'the proposal to settle or ask' });
    // Known from the steps: a forbidden transition is denied, one counted deny denies, else it runs.
    let expected: 'executed' | 'denied' = step.kind === 'forbidden' ? 'denied' : 'executed';
    if (pending) {
      const { p, v } = pending;
      const fields = (approve: boolean, reason?: string): VoteFields => ({ workflowId: v.workflowId, firstRunId: v.firstRunId, approvalId: p.approvalId, callDigest: p.callDigest, tool: p.tool, approve, ...(reason ? { reason } : {}) });
      const voted = new Set<string>();
      let decided = false;
      const genuineVote = async (who: string, approve: boolean): Promise<void> => {
        if (decided) return;
        const env = signedVote(trust.approver(who), fields(approve, approve ? undefined : 'model says no'));
        const e = await send('approval', env, (ev) => {
          if (approve && voted.has(who)) assert.equal(ev.detail?.rule, 'approval.duplicate');
          else if (ev.kind === 'alert') assert.equal(ev.detail?.rule, 'approval.not-member', `${who}'s genuine vote was refused: ${JSON.stringify(ev.detail)}`);
          else assert.equal(ev.kind, approve ? 'approved' : 'denied');
        });
        delivered.push(env);
        if (e.kind === 'denied') expected = 'denied';
        if (e.kind === 'approved' || e.kind === 'denied') {
          voted.add(who);
          genuine.set(p.approvalId, (genuine.get(p.approvalId) ?? new Set()).add(who));
          const view = await s.state();
          decided = !view.pendingApprovals.some((a) => a.approvalId === p.approvalId);
        }
      };
      for (const m of step.messages) {
        const late = decided;
        switch (m) {
          case 'valid':
            if (late) await send('approval', signedVote(trust.approver('bob'), fields(true)), 'approval.decided');
            else await genuineVote(voted.has('alice') ? 'bob' : 'alice', true);
            break;
          case 'unsigned':
            await send('approval', { approvalId: p.approvalId, approve: true, approver: 'alice' }, 'envelope.malformed');
            break;
          case 'unknown-key':
            await send('approval', signedVote(selfMadeKey('alice'), fields(true)), 'envelope.unknown-key');
            break;
          case 'bad-signature':
            await send('approval', impersonatedVote(trust.approver('carol').keyId, fields(true)), 'envelope.bad-signature');
            break;
          case 'replayed': {
            const env = delivered[delivered.length - 1] ?? signedVote(trust.approver('alice'), { ...fields(true), workflowId: otherView.workflowId, firstRunId: otherView.firstRunId });
            await send('approval', env, delivered.length > 0 ? 'decision.replayed' : 'decision.session');
            break;
          }
          case 'wrong-digest':
            await send('approval', signedVote(trust.approver('alice'), { ...fields(true), callDigest: lastDigest ?? 'a'.repeat(64) }), late ? 'approval.decided' : 'approval.digest');
            break;
          case 'wrong-session':
            await send('approval', signedVote(trust.approver('alice'), { ...fields(true), workflowId: otherView.workflowId, firstRunId: otherView.firstRunId }), 'decision.session');
            break;
        }
      }
      if (step.closer === 'deny') await genuineVote('alice', false);
      else for (const who of ['alice', 'carol']) await genuineVote(who, true);
      lastDigest = p.callDigest;
    }
    const r = await result;
    assert.equal(r.status, expected, `step ${JSON.stringify(step)}: ${JSON.stringify(r.decision.reasons)}`);
  }
  await s.end({});

  // ---- the property, over the recorded trail
  const events = await rt.h.events(s.sessionId);
  const requested = new Map(events.filter((e) => e.kind === 'approval-requested').map((e) => [e.proposal_seq, e] as const));
  for (const e of events.filter((x) => x.kind === 'executed')) {
    const proposed = events.find((x) => x.kind === 'proposed' && x.proposal_seq === e.proposal_seq);
    const args = (proposed?.args ?? {}) as Record<string, unknown>;
    if (autonomousTools(String(e.tool), args)) continue;
    assert.ok(requested.has(e.proposal_seq), `${e.tool} #${e.proposal_seq} executed without being asked for under the worker's policy`);
  }
  for (const e of events.filter((x) => x.kind === 'approved' || x.kind === 'denied')) {
    const approvalId = `${s.sessionId}:${e.proposal_seq}`;
    assert.ok(genuine.get(approvalId)?.has(String(e.approver)), `a vote no approver sent was counted: ${e.kind} by ${e.approver} on ${approvalId}`);
  }
  const links = await readEvents(rt.h.audit.pool, s.sessionId);
  assert.deepEqual(checkVoteEvidence(s.sessionId, links.map((l) => l.event), trust.keyset), []);
  const report = await verifyDatabase(rt.h.audit.pool, { sessionId: s.sessionId, keyset: trust.keyset });
  assert.equal(report.ok, true, formatVerifyReport(report));
}

describe('model: nothing an agent sends makes a call run that the worker\'s policy would not allow on its own', () => {
  it('holds over random sequences of proposals and forged, replayed and genuine messages', async () => {
    // One hand-written sequence first, so every proposal and message kind is exercised on every run of the suite.
    const everything: Step[] = [
      { pause: 'unsigned-then-signed-resume', kind: 'approval', replicas: 5, messages: ['unsigned', 'unknown-key', 'bad-signature', 'wrong-session', 'wrong-digest', 'valid', 'replayed', 'wrong-digest'], closer: 'approve' },
      { pause: 'none', kind: 'unlock', replicas: 0, messages: ['valid', 'replayed', 'wrong-digest', 'wrong-session'], closer: 'approve' },
      { pause: 'none', kind: 'forbidden', replicas: 0, messages: [], closer: 'approve' },
      { pause: 'unsigned-then-signed-resume', kind: 'autonomous', replicas: 1, messages: [], closer: 'approve' },
      { pause: 'none', kind: 'approval', replicas: 6, messages: ['replayed', 'bad-signature'], closer: 'deny' },
    ];
    // Found by CI (seed -1426659107) while runs continued as new every 120 events: the unlock's history
    // passed the bound, and the pause landed in the new run's first task, before the carried state was
    // restored — which lifted it until the restore kept it (lifecycle.ts, `pause-survives-restore`).
    const pauseAtNewRun: Step[] = [
      { pause: 'none', kind: 'unlock', replicas: 39, messages: ['wrong-digest', 'bad-signature', 'wrong-session'], closer: 'approve' },
      { pause: 'unsigned-then-signed-resume', kind: 'approval', replicas: 50, messages: ['wrong-digest', 'unsigned'], closer: 'approve' },
    ];
    await fc.assert(fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 5 }), play), { numRuns: Number(process.env.GATEHOUSE_MODEL_RUNS ?? 8), endOnFailure: true, examples: [[everything], [pauseAtNewRun]] });
  });
});
