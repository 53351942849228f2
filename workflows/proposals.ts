/**
 * One proposal, start to end: admit it, check and redact its arguments (a local activity in the
 * same workflow task), gate it, then deny, run, or ask humans and run what they approved. Every
 * verdict comes from `policies/gate.ts`; this file records and orchestrates.
 */
import { condition } from '@temporalio/workflow';
import { admitProposal, callDigest, estimateRequest, estimateWithinRules, stateDigest, gateProposal, invalidArguments, recheckApproved, withLedgerShadow } from '../policies';
import type { EstimateRequest } from '../policies';
import type { Decision, Proposal, ProposalFacts } from '../policies/types';
import type { AuditEventInput } from '../audit/types';
import type { SessionToolDescriptor } from '../activities/types';
import type { AuditHold } from './audit-writer';
import type { LedgerResult } from '../policies/ledger';
import { local } from './activities';
import type { ApprovalDesk } from './approval-desk';
import { nowMs } from './clock';
import type { ProposeResult, ProposeStatus, SessionProposal } from './contract';
import type { SessionCore } from './session-core';
import { traceApprovalWait, traceDecision, traceProposal, traceProposalResult } from './telemetry';
import { runAllowed, runQuick, runUnchecked } from './tool-run';
import { asksTree } from './tree-steps';
import { haltedBeforeRun, holdWhilePaused, pausedFor } from './before-run';
import { reserveAcrossSessions } from './cross-session';
import { leasesCoverCall, spendLeases } from './leases';
import { hasPatch } from './patches';

/**
 * Patch id: an allowed quick call without a blast-radius estimate skips `prepareCall` (its
 * arguments are checked by `runTool` first). Sessions recorded before it replay with `prepareCall`.
 */
const CHECK_IN_RUN_TOOL = 'arguments-checked-in-run-tool';
/**
 * Patch id: an approved call whose blast radius was estimated is estimated again just before it
 * runs (rows may have been added while humans decided). Sessions recorded before reuse the first estimate.
 */
const REMEASURE_APPROVED = 'blast-radius-remeasured-after-approval';

/**
 * Patch id: proposals make as few workflow promises as they can (the SDK captures a stack trace
 * for each, most of what deciding cost the worker): an idle queue starts the proposal at once, an
 * open session is not waited on, and an allowed quick call runs through `runQuick`. That moves
 * commands relative to concurrent handlers, so sessions recorded before replay the queued path.
 */
const LEAN_PROPOSALS = 'lean-proposals';

/** `propose` update: queued, and held while the session or this tool is paused. */
export function propose(core: SessionCore, desk: ApprovalDesk, p: SessionProposal): Promise<ProposeResult> {
  if (hasPatch(core, LEAN_PROPOSALS)) return proposeLean(core, desk, p);
  return core.queue.run(async () => {
    await condition(() => !pausedFor(core, p.tool));
    return traceProposal(core.sessionId, p.tool, async () => ({ value: await handleProposal(core, desk, p) }));
  });
}

function proposeLean(core: SessionCore, desk: ApprovalDesk, p: SessionProposal): Promise<ProposeResult> {
  const open = (): boolean => !pausedFor(core, p.tool);
  const handle = (): Promise<ProposeResult> => traceProposalResult(core.sessionId, p.tool, () => handleLean(core, desk, p));
  return core.queue.runNow(() => (open() ? handle() : condition(open).then(handle)));
}

/** An allowed quick call runs through `runQuick`; every other proposal takes `handleProposal`. */
function handleLean(core: SessionCore, desk: ApprovalDesk, p: SessionProposal): Promise<ProposeResult> {
  const t = triage(core, p);
  if (!t.quick) return handleProposal(core, desk, p);
  const proposalSeq = ++core.proposalSeq;
  const { proposal, descriptor } = t;
  const { decision, leased } = t.quick;
  traceDecision(decision);
  const giveBack = leased ? spendLeases(core, p.tool) : undefined;
  return runQuick(core, { proposalSeq, proposal, descriptor, decision, before: writeAhead(core, proposalSeq, proposal, decision) }, (invalid) => {
    giveBack?.();
    // Halted while earlier writes landed: refused as a halted session refuses, arguments unchecked.
    if (!invalid) return deny(core, proposalSeq, proposal, {}, haltedRefusal(core, proposal));
    return deny(core, proposalSeq, proposal, invalid.redactedArgs, invalidArguments(core.policy, p.tool, invalid.issues[0]));
  });
}

/** What the gate makes of a proposal before anything runs (pure: a proposal that is not quick is triaged again). */
type Triage =
  /** Refused before the schema check (unknown tool, halted session). */
  | { readonly proposal: Proposal; readonly refused: Decision; readonly quick?: undefined }
  | {
    readonly proposal: Proposal;
    readonly refused?: undefined;
    readonly descriptor: SessionToolDescriptor;
    readonly estimate?: EstimateRequest;
    /** The policy names an estimator for the tool (its estimate may still be refused by its own rules). */
    readonly estimated?: boolean;
    /** Allowed, quick, nothing to estimate or reserve: `runTool` checks the arguments first. */
    readonly quick?: { readonly decision: Decision; readonly leased: boolean };
  };

function triage(core: SessionCore, p: SessionProposal): Triage {
  const proposal: Proposal = {
    tool: p.tool,
    args: p.args,
    reasoning: p.reasoning ?? '',
    ...(p.tokenCost !== undefined ? { tokenCost: p.tokenCost } : {}),
    ...(p.idempotencyKey !== undefined ? { idempotencyKey: p.idempotencyKey } : {}),
  };
  const session = { halted: core.halted, sessionId: core.sessionId };
  const refused = admitProposal(core.policy, core.state, proposal, session, nowMs());
  if (refused) return { proposal, refused };
  const descriptor = core.descriptors.get(p.tool)!;
  // An upstream tool's policy may name a read tool that estimates its blast radius (resolved here, purely).
  const asked = descriptor.upstream ? estimateRequest(core.policy.tools.get(p.tool)?.upstream, p.args) : undefined;
  // The estimate runs outside the gate: one its own tool's rules refuse is not made (the radius stays unknown).
  const estimate = asked && core.estimateAfterDenyRules && !estimateWithinRules(core.policy, asked) ? undefined : asked;
  // A quick tool with nothing to estimate: the gate needs no measured facts, so an allowed call goes
  // straight to `runTool`, which checks and redacts the arguments before it writes or runs anything.
  // (A tool in a cross-session rule reserves only with checked arguments: it takes the path below,
  // unless leases this session holds cover the call — then nothing is asked of a ledger.)
  const crossSession = core.policy.tools.get(p.tool)?.crossSession !== undefined;
  const leased = crossSession && leasesCoverCall(core, p.tool);
  // A sequence step of a session tree is asked of the tree first: never quick.
  if (!estimate && !asksTree(core, p.tool) && (!crossSession || leased) && descriptor.estimatesBlastRadius === false && descriptor.execution === 'local-activity' && hasPatch(core, CHECK_IN_RUN_TOOL)) {
    const { decision } = gateProposal(core.policy, core.state, proposal, {}, p.requestUnlock === true, nowMs());
    if (decision.verdict === 'allow') return { proposal, descriptor, estimate, quick: { decision, leased } };
  }
  return { proposal, descriptor, estimate, estimated: asked !== undefined };
}

/** The write-ahead events of an allowed quick call, numbered from the held seqs (arguments as proposed: `runTool` redacts them). */
function writeAhead(core: SessionCore, proposalSeq: number, proposal: Proposal, decision: Decision): (hold: AuditHold) => AuditEventInput[] {
  return (hold) => [
    hold.event('proposed', core.proposalFields(proposalSeq, proposal, proposal.args)),
    hold.event('decided', { proposalSeq, tool: proposal.tool, decision }),
  ];
}

async function handleProposal(core: SessionCore, desk: ApprovalDesk, p: SessionProposal): Promise<ProposeResult> {
  const proposalSeq = ++core.proposalSeq;
  const t = triage(core, p);
  const { proposal } = t;
  // Refused before the schema check: nothing has redacted the arguments, so none are recorded.
  if (t.refused) return deny(core, proposalSeq, proposal, {}, t.refused);
  const { descriptor, estimate, estimated, quick } = t;
  if (quick) {
    const { decision, leased } = quick;
    // Traced as the gate decided it; arguments that then fail the check add a second, denying decision.
    traceDecision(decision);
    // Spent before the call can run; a call refused for its arguments did not run and gives it back.
    const giveBack = leased ? spendLeases(core, p.tool) : undefined;
    const ran = await runUnchecked(core, { proposalSeq, proposal, descriptor, decision, before: writeAhead(core, proposalSeq, proposal, decision) });
    if ('halted' in ran) {
      giveBack?.();
      return deny(core, proposalSeq, proposal, {}, haltedRefusal(core, proposal));
    }
    if (!('invalid' in ran)) return ran;
    giveBack?.();
    return deny(core, proposalSeq, proposal, ran.invalid.redactedArgs, invalidArguments(core.policy, p.tool, ran.invalid.issues[0]));
  }

  // A call denied whatever its blast radius is denied before its estimator runs the agent's arguments
  // (the count would answer the agent): gated as if it touched nothing, a deny there is final, and
  // its reasons are the rules that deny it (no blast-radius rule fires at zero).
  const unlock = p.requestUnlock === true;
  if (core.estimateAfterDenyRules && (estimated === true || descriptor.estimatesBlastRadius !== false)) {
    const atZero = gateProposal(core.policy, core.state, proposal, { blastRadius: 0 }, unlock, nowMs()).decision;
    if (atZero.verdict === 'deny') {
      const checked = await local.prepareCall({ tool: p.tool, args: p.args, measure: false });
      if (!checked.valid) return deny(core, proposalSeq, proposal, checked.redactedArgs, invalidArguments(core.policy, p.tool, checked.issues?.[0]));
      return deny(core, proposalSeq, proposal, checked.redactedArgs, atZero);
    }
  }
  // Zod check, redaction and blast-radius estimate: a local activity, in the same workflow task.
  const prep = await local.prepareCall({ tool: p.tool, args: p.args, ...(estimate ? { estimate } : {}) });
  if (!prep.valid) return deny(core, proposalSeq, proposal, prep.redactedArgs, invalidArguments(core.policy, p.tool, prep.issues?.[0]));
  const measured: ProposalFacts = prep.blastRadius !== undefined ? { blastRadius: prep.blastRadius } : {};
  const { decision: gated, facts } = gateProposal(core.policy, core.state, proposal, measured, unlock, nowMs());

  if (gated.verdict === 'deny') return deny(core, proposalSeq, proposal, prep.redactedArgs, gated);
  let ledgers: readonly LedgerResult[] = [];
  if (gated.verdict === 'allow') {
    // Cross-session rules last, once the call would run: a reservation is a call that runs.
    const crossed = await reserveAcrossSessions(core, proposalSeq, proposal);
    if (crossed.denied) return deny(core, proposalSeq, proposal, prep.redactedArgs, crossed.denied);
    ledgers = crossed.answers;
  }
  // A halt handled while the ledgers answered (or earlier writes landed) stops the call here.
  // Nothing is awaited after it before the call goes to `runTool` (see before-run.ts); only runs of
  // `halt-stops-unstarted-calls` await it: an await the runs before it did not make could move their commands.
  if (gated.verdict === 'allow' && core.haltStopsUnstartedCalls && (await haltedBeforeRun(core, proposalSeq, proposal.tool))) return deny(core, proposalSeq, proposal, prep.redactedArgs, haltedRefusal(core, proposal));
  // What the ledgers' shadow rules would have denied joins the decision's shadow finding.
  const decision = withLedgerShadow(gated, ledgers);
  traceDecision(decision);
  const proposed = core.audit.event('proposed', core.proposalFields(proposalSeq, proposal, prep.redactedArgs));
  if (decision.verdict === 'allow') {
    const before = [proposed, core.audit.event('decided', { proposalSeq, tool: proposal.tool, decision })];
    return runAllowed(core, { proposalSeq, proposal, descriptor, decision, before, redactedArgs: prep.redactedArgs });
  }

  // approve: ask humans, wait, then decide again just before running.
  const requirement = decision.approval;
  const digest = callDigest(proposal.tool, proposal.args, core.policy.hash, core.state);
  const stateHash = stateDigest(core.state);
  await core.audit.record([proposed, core.audit.event('decided', { proposalSeq, tool: proposal.tool, decision })]);
  const outcome = await traceApprovalWait(() => desk.awaitApproval({ proposalSeq, proposal, redactedArgs: prep.redactedArgs, blastRadius: prep.blastRadius, decision, requirement, digest, stateHash }));
  if (outcome.status !== 'approved') {
    const status: ProposeStatus = outcome.status === 'expired' ? 'expired' : 'denied';
    const final: Decision = { ...decision, verdict: 'deny', reasons: [...decision.reasons, ...outcome.reasons] };
    await settle(core, proposalSeq, proposal, status);
    return { status, decision: final, approvalId: outcome.approvalId, sequence: proposalSeq };
  }

  // Approved: a pause the operator set meanwhile holds it (a vote does not lift a pause; a halt ends the wait).
  // (No await when nothing is paused: the runs recorded before took none there.)
  if (core.approvalHoldsPauseAndDeadline && pausedFor(core, proposal.tool)) await holdWhilePaused(core, proposalSeq, proposal.tool);
  // The call runs only if it is still the call that was approved, measured again.
  const remeasure = prep.blastRadius !== undefined && !core.halted && hasPatch(core, REMEASURE_APPROVED);
  const again = remeasure ? await local.prepareCall({ tool: p.tool, args: p.args, ...(estimate ? { estimate } : {}) }) : undefined;
  const factsNow: ProposalFacts = again ? { ...facts, blastRadius: again.blastRadius } : facts;
  const approved = { digest, requirement, approvers: outcome.approvers.length, ...(again ? { blastRadius: prep.blastRadius } : {}) };
  const rechecked = recheckApproved(core.policy, core.state, proposal, factsNow, approved, { halted: core.halted, sessionId: core.sessionId }, nowMs());
  const crossed = rechecked.verdict === 'deny' ? { answers: [] } : await reserveAcrossSessions(core, proposalSeq, proposal, factsNow.transitionUnlocked === true);
  // A halt that landed while the ledgers answered (or earlier writes landed) stops the call as the re-check would have.
  const halted = rechecked.verdict !== 'deny' && (core.haltStopsUnstartedCalls ? await haltedBeforeRun(core, proposalSeq, proposal.tool) : core.approvalHoldsPauseAndDeadline && core.halted);
  const haltedCheck = halted ? recheckApproved(core.policy, core.state, proposal, factsNow, approved, { halted: true, sessionId: core.sessionId }, nowMs()) : undefined;
  const stopped = rechecked.verdict === 'deny' ? rechecked : (haltedCheck?.verdict === 'deny' ? haltedCheck : crossed.denied);
  const recheck = withLedgerShadow(rechecked, crossed.answers);
  if (stopped) {
    await core.audit.record([core.audit.event('decided', { proposalSeq, tool: proposal.tool, decision: stopped, approvalId: outcome.approvalId, detail: { stage: 'before-run' } })]);
    await settle(core, proposalSeq, proposal, 'denied');
    return { status: 'denied', decision: stopped, approvalId: outcome.approvalId, sequence: proposalSeq };
  }
  const before = [core.audit.event('decided', { proposalSeq, tool: proposal.tool, decision: recheck, approvalId: outcome.approvalId, detail: { stage: 'before-run', approvedBy: outcome.approvers } })];
  const ran = await runAllowed(core, { proposalSeq, proposal, descriptor, decision: recheck, before, redactedArgs: prep.redactedArgs });
  return { ...ran, approvalId: outcome.approvalId };
}

/** The refusal of a call whose session was halted before it ran. */
function haltedRefusal(core: SessionCore, proposal: Proposal): Decision {
  return admitProposal(core.policy, core.state, proposal, { halted: true, sessionId: core.sessionId }, nowMs())!;
}

/** Records a refused proposal and feeds the denial to the policy state. */
async function deny(core: SessionCore, proposalSeq: number, proposal: Proposal, redactedArgs: Readonly<Record<string, unknown>>, decision: Decision): Promise<ProposeResult> {
  traceDecision(decision);
  await core.audit.record([core.audit.event('proposed', core.proposalFields(proposalSeq, proposal, redactedArgs)), core.audit.event('decided', { proposalSeq, tool: proposal.tool, decision })]);
  await settle(core, proposalSeq, proposal, 'denied');
  return { status: 'denied', decision, sequence: proposalSeq };
}

/** A call that did not run: the outcome moves the policy state, the action list and the mode. */
async function settle(core: SessionCore, proposalSeq: number, proposal: Proposal, status: Exclude<ProposeStatus, 'executed' | 'failed'>): Promise<void> {
  core.apply(proposal, status);
  core.note(proposalSeq, proposal.tool, status, 'deny');
  await core.afterChange();
}
