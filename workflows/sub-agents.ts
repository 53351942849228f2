/**
 * `spawnChild`: a session starts a sub-agent as a child workflow. Whether it may, and whether a
 * human must agree first, is `policies/sub-agents.ts`; the child's budget share is taken from the
 * parent, so the two cannot both spend it. The parent chooses the child's id (`<session>.<n>`)
 * and agent id (`<rootAgentId>/<name>`) and records the spawn (`spawnRecord` query) before it
 * starts the child: the child takes its identity, policy and share from that record only. An id
 * someone else holds fails the spawn cleanly: denied, the share kept by the parent, audited.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, WorkflowIdReusePolicy, condition, startChild } from '@temporalio/workflow';
import { callDigest, childStart, spawnAdmission, spawnDecision, stateDigest } from '../policies';
import { subAgentId, subSessionId } from '../policies/agent-id';
import type { Proposal, Reason } from '../policies/types';
import { local } from './activities';
import type { ApprovalDesk } from './approval-desk';
import { nowMs } from './clock';
import { SESSION_WORKFLOW_TYPE, sessionWorkflowId, type SessionStartInput, type SpawnChildInput, type SpawnChildResult, type SpawnRecord } from './contract';
import type { SessionCore } from './session-core';
import { traceApprovalWait } from './telemetry';
import type { agentSession } from './session';
import { hasPatch } from './patches';
import { haltChild } from './fleet-controls';

/** Patch id: the parent chooses ids, records the spawn, passes the child nothing it trusts, and survives a taken id. */
export const SPAWN_RECORDED = 'spawn-recorded-by-parent';

/** `spawnChild` update: queued like a proposal, held while the session is paused. */
export function spawnChild(core: SessionCore, desk: ApprovalDesk, c: SpawnChildInput): Promise<SpawnChildResult> {
  return core.queue.run(async () => {
    await condition(() => core.halted || !core.paused);
    return { value: await spawn(core, desk, c) };
  });
}

async function spawn(core: SessionCore, desk: ApprovalDesk, c: SpawnChildInput): Promise<SpawnChildResult> {
  const recorded = hasPatch(core, SPAWN_RECORDED);
  const proposalSeq = ++core.proposalSeq;
  const legacyId = (c as { sessionId?: string }).sessionId;
  const childSessionId = recorded ? subSessionId(core.sessionId, ++core.spawnCount) : legacyId ?? `${core.sessionId}.${core.children.length + 1}`;
  const workflowId = sessionWorkflowId(childSessionId);
  const named = recorded ? subAgentId(core.principal, c.agentId) : { ok: true as const, agentId: c.agentId };
  const agentId = named.ok ? named.agentId : c.agentId;
  const proposal: Proposal = { tool: 'session.spawnChild', args: { agentId, intent: c.intent, sessionId: childSessionId }, reasoning: c.intent };
  const denied = async (reasons: readonly Reason[], status: 'denied' | 'expired' = 'denied', approvalId?: string, intentScore?: number): Promise<SpawnChildResult> => {
    await core.audit.record([core.audit.event('decided', { proposalSeq, tool: proposal.tool, args: proposal.args, detail: { childSessionId, status, reasons } })]);
    return { status, sessionId: childSessionId, workflowId, reasons: [...reasons], ...(approvalId ? { approvalId } : {}), ...(intentScore !== undefined ? { intentScore } : {}) };
  };
  if (!named.ok) return denied([{ rule: 'child.agent-id', message: named.message }]);
  const session = () => ({ sessionId: core.sessionId, halted: core.halted, mode: core.mode });
  const refused = spawnAdmission(core.policy, session());
  if (refused) return denied(refused.reasons);

  const { score } = await local.compareIntents(c.intent, core.intent);
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
  const record: SpawnRecord = {
    sessionId: childSessionId,
    parentSessionId: core.sessionId,
    agentId,
    owner: core.owner,
    principal: core.principal,
    ...(core.credentialId ? { credentialId: core.credentialId } : {}),
    ...(core.credentialIssuedAt ? { credentialIssuedAt: core.credentialIssuedAt } : {}),
    policyRef: core.policyName,
    intent: c.intent,
    budget: share,
    ...(c.mandate ? { mandate: c.mandate } : {}),
    ...(inherited ? { inheritedTransitions: inherited } : {}),
  };
  const args: SessionStartInput = recorded
    ? { sessionId: childSessionId, intent: c.intent, parentSessionId: core.sessionId }
    : {
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
      };
  // A halt handled while the intents were compared: nothing more starts.
  const halted = core.haltReachesStartingChildren ? spawnAdmission(core.policy, session()) : undefined;
  if (halted) return denied(halted.reasons, 'denied', approvalId, score);
  if (!recorded) core.state = parentState;
  else core.spawns.set(workflowId, record);
  try {
    await startChild<typeof agentSession>(SESSION_WORKFLOW_TYPE, {
      workflowId,
      args: [args],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      ...(recorded ? { workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE } : {}),
    });
  } catch (err) {
    if (!recorded || !(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    // Someone else holds the id: the record is withdrawn and the parent keeps its share.
    core.spawns.delete(workflowId);
    return denied([{ rule: 'child.id-taken', message: `sub-session id \`${childSessionId}\` is taken by a workflow this session did not start: the sub-agent was not started and the budget share stays with the parent` }], 'denied', approvalId, score);
  }
  if (recorded) core.state = parentState;
  core.children.push(workflowId);
  // A halt handled while the child started read the children before this one was listed.
  if (core.halted && core.haltReachesStartingChildren) await haltChild(workflowId, core.haltedBy);
  reasons.push({ rule: 'child.started', message: `sub-agent \`${agentId}\` started with its share of the budget` });
  await core.audit.record([core.audit.event('decided', { proposalSeq, tool: proposal.tool, args: proposal.args, detail: { childSessionId, workflowId, agentId, budget: share, intentScore: score, status: 'started' } })]);
  await core.afterChange();
  return { status: 'started', sessionId: childSessionId, workflowId, budget: share, intentScore: score, reasons, ...(approvalId ? { approvalId } : {}) };
}
