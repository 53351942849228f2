/**
 * `spawnChild`: a session starts a sub-agent as a child workflow. Whether it may, and whether a
 * human must agree first, is `policies/sub-agents.ts`; the child's budget share is taken from the
 * parent, so the two cannot both spend it.
 */
import { ParentClosePolicy, condition, startChild } from '@temporalio/workflow';
import { callDigest, childStart, spawnAdmission, spawnDecision, stateDigest } from '../policies';
import type { Proposal, Reason } from '../policies/types';
import { local } from './activities';
import type { ApprovalDesk } from './approval-desk';
import { nowMs } from './clock';
import { SESSION_WORKFLOW_TYPE, sessionWorkflowId, type SpawnChildInput, type SpawnChildResult } from './contract';
import type { SessionCore } from './session-core';
import { traceApprovalWait } from './telemetry';
import type { agentSession } from './session';

/** `spawnChild` update: queued like a proposal, held while the session is paused. */
export function spawnChild(core: SessionCore, desk: ApprovalDesk, c: SpawnChildInput): Promise<SpawnChildResult> {
  return core.queue.run(async () => {
    await condition(() => core.halted || !core.paused);
    return { value: await spawn(core, desk, c) };
  });
}

async function spawn(core: SessionCore, desk: ApprovalDesk, c: SpawnChildInput): Promise<SpawnChildResult> {
  const proposalSeq = ++core.proposalSeq;
  const childSessionId = c.sessionId ?? `${core.sessionId}.${core.children.length + 1}`;
  const workflowId = sessionWorkflowId(childSessionId);
  const proposal: Proposal = { tool: 'session.spawnChild', args: { agentId: c.agentId, intent: c.intent, sessionId: childSessionId }, reasoning: c.intent };
  const denied = async (reasons: readonly Reason[], status: 'denied' | 'expired' = 'denied', approvalId?: string, intentScore?: number): Promise<SpawnChildResult> => {
    await core.audit.record([core.audit.event('decided', { proposalSeq, tool: proposal.tool, args: proposal.args, detail: { childSessionId, status, reasons } })]);
    return { status, sessionId: childSessionId, workflowId, reasons: [...reasons], ...(approvalId ? { approvalId } : {}), ...(intentScore !== undefined ? { intentScore } : {}) };
  };
  const session = () => ({ sessionId: core.sessionId, halted: core.halted, mode: core.mode });
  const refused = spawnAdmission(core.policy, session());
  if (refused) return denied(refused.reasons);

  const { score } = await local.compareIntents(c.intent, core.input.intent);
  const reasons: Reason[] = [];
  let approvalId: string | undefined;
  const decision = spawnDecision(core.policy, score);
  if (decision.verdict === 'approve') {
    const requirement = decision.approval;
    const digest = callDigest(proposal.tool, proposal.args, core.policy.hash, core.state);
    const stateHash = stateDigest(core.state);
    await core.audit.record([core.audit.event('proposed', core.proposalFields(proposalSeq, proposal, proposal.args)), core.audit.event('decided', { proposalSeq, tool: proposal.tool, decision })]);
    const outcome = await traceApprovalWait(() => desk.awaitApproval({ proposalSeq, proposal, redactedArgs: proposal.args, blastRadius: undefined, decision, requirement, digest, stateHash }));
    approvalId = outcome.approvalId;
    if (outcome.status !== 'approved') return denied([...decision.reasons, ...outcome.reasons], outcome.status === 'expired' ? 'expired' : 'denied', approvalId, score);
    const since = spawnAdmission(core.policy, session());
    if (since) return denied(since.reasons, 'denied', approvalId, score);
    reasons.push(...decision.reasons, { rule: 'approval.granted', message: `approved by ${outcome.approvers.join(', ')}` });
  }
  const { share, inherited, parentState } = childStart(core.policy, core.state, nowMs());
  core.state = parentState;
  await startChild<typeof agentSession>(SESSION_WORKFLOW_TYPE, {
    workflowId,
    args: [
      {
        sessionId: childSessionId,
        agentId: c.agentId,
        owner: core.owner,
        intent: c.intent,
        policyRef: core.policyName,
        parentSessionId: core.sessionId,
        principal: core.principal,
        budget: share,
        ...(c.mandate ? { mandate: c.mandate } : {}),
        ...(inherited ? { inheritedTransitions: inherited } : {}),
      },
    ],
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
  core.children.push(workflowId);
  reasons.push({ rule: 'child.started', message: `sub-agent \`${c.agentId}\` started with its share of the budget` });
  await core.audit.record([core.audit.event('decided', { proposalSeq, tool: proposal.tool, args: proposal.args, detail: { childSessionId, workflowId, budget: share, intentScore: score, status: 'started' } })]);
  await core.afterChange();
  return { status: 'started', sessionId: childSessionId, workflowId, budget: share, intentScore: score, reasons, ...(approvalId ? { approvalId } : {}) };
}
