/**
 * `spawnChild`: a session starts a sub-agent as a child workflow. Whether it may, and whether a
 * human must agree first, is `policies/sub-agents.ts`; the child's budget share is taken from the
 * parent, so the two cannot both spend it. The parent chooses the child's id (`<session>.<n>`)
 * and agent id (`<rootAgentId>/<name>`) and records the spawn (`spawnRecord` query) before it
 * starts the child: the child takes its identity, policy and share from that record only. An id
 * someone else holds fails the spawn cleanly: denied, the share kept by the parent, audited.
 *
 * A child stays within its parent (`sub-agents-within-parent`, patches.ts): its mandate narrows the
 * parent's (`childMandate`); a paused parent starts none (a pause of `session.spawnChild` holds the
 * spawn like a tool's; one that lands while the spawn waits denies it, `session.paused`); it starts
 * with the parent's paused tools, and is sent the pauses forwarded while it started.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, WorkflowIdReusePolicy, condition, startChild } from '@temporalio/workflow';
import { callDigest, childStart, spawnAdmission, spawnDecision, stateDigest } from '../policies';
import { subAgentId, subSessionId } from '../policies/agent-id';
import { childMandate, type ChildMandate } from '../policies/sub-agents';
import type { Proposal, Reason } from '../policies/types';
import { local } from './activities';
import type { ApprovalDesk } from './approval-desk';
import { nowMs } from './clock';
import { SESSION_WORKFLOW_TYPE, sessionWorkflowId, type SessionStartInput, type SpawnChildInput, type SpawnChildResult, type SpawnRecord } from './contract';
import type { SessionCore } from './session-core';
import { traceApprovalWait } from './telemetry';
import type { agentSession } from './session';
import { hasPatch } from './patches';
import { haltChild, pauseChild, pausesMissedBy } from './fleet-controls';
import { startTree } from './tree-steps';

/** Patch id: the parent chooses ids, records the spawn, passes the child nothing it trusts, and survives a taken id. */
export const SPAWN_RECORDED = 'spawn-recorded-by-parent';

/** The tool name a spawn is proposed, audited and paused under (`pause --tool session.spawnChild`). */
export const SPAWN_TOOL = 'session.spawnChild';

/** `spawnChild` update: queued like a proposal, held while the session (or, patches.ts, spawning) is paused. */
export function spawnChild(core: SessionCore, desk: ApprovalDesk, c: SpawnChildInput): Promise<SpawnChildResult> {
  return core.queue.run(async () => {
    await condition(() => core.halted || !spawnPaused(core));
    return { value: await spawn(core, desk, c) };
  });
}

/** The session is paused; in runs that take `sub-agents-within-parent`, spawning too as a tool. */
function spawnPaused(core: SessionCore): boolean {
  return core.paused || (core.subAgentsWithinParent && core.pausedTools.has(SPAWN_TOOL));
}

async function spawn(core: SessionCore, desk: ApprovalDesk, c: SpawnChildInput): Promise<SpawnChildResult> {
  const recorded = hasPatch(core, SPAWN_RECORDED);
  const proposalSeq = ++core.proposalSeq;
  const legacyId = (c as { sessionId?: string }).sessionId;
  const childSessionId = recorded ? subSessionId(core.sessionId, ++core.spawnCount) : legacyId ?? `${core.sessionId}.${core.children.length + 1}`;
  const workflowId = sessionWorkflowId(childSessionId);
  const named = recorded ? subAgentId(core.principal, c.agentId) : { ok: true as const, agentId: c.agentId };
  const agentId = named.ok ? named.agentId : c.agentId;
  const proposal: Proposal = { tool: SPAWN_TOOL, args: { agentId, intent: c.intent, sessionId: childSessionId }, reasoning: c.intent };
  const denied = async (reasons: readonly Reason[], status: 'denied' | 'expired' = 'denied', approvalId?: string, intentScore?: number): Promise<SpawnChildResult> => {
    await core.audit.record([core.audit.event('decided', { proposalSeq, tool: proposal.tool, args: proposal.args, detail: { childSessionId, status, reasons } })]);
    return { status, sessionId: childSessionId, workflowId, reasons: [...reasons], ...(approvalId ? { approvalId } : {}), ...(intentScore !== undefined ? { intentScore } : {}) };
  };
  if (!named.ok) return denied([{ rule: 'child.agent-id', message: named.message }]);
  const session = () => ({ sessionId: core.sessionId, halted: core.halted, mode: core.mode });
  const refused = spawnAdmission(core.policy, session());
  if (refused) return denied(refused.reasons);
  // The child's mandate may only narrow the parent's (runs before the patch: as asked).
  const mandate: ChildMandate = core.subAgentsWithinParent ? childMandate(core.policy, core.state.mandate, c.mandate) : { ok: true, ...(c.mandate ? { mandate: c.mandate } : {}) };
  if (!mandate.ok) return denied([mandate.reason]);

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
  // Rates are shared only with a recorded child: it reads them from this record, never from its start input.
  const { share, inherited, rates, parentState } = childStart(core.policy, core.state, nowMs(), core.ratesSharedInTree && recorded);
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
    ...(mandate.mandate ? { mandate: mandate.mandate } : {}),
    ...(inherited ? { inheritedTransitions: inherited } : {}),
    ...(rates ? { inheritedRates: rates } : {}),
  };
  // Tools paused in the parent are paused in the child from its start (a pause only stops: the
  // child takes them from its start input, where nothing could loosen it).
  const pausedTools = core.subAgentsWithinParent ? [...core.pausedTools].sort() : [];
  const args: SessionStartInput = recorded
    ? { sessionId: childSessionId, intent: c.intent, parentSessionId: core.sessionId, ...(pausedTools.length > 0 ? { pausedTools } : {}) }
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
  // A pause handled while the intents were compared or a human decided: a paused parent starts no child.
  if (core.subAgentsWithinParent && spawnPaused(core)) {
    const what = core.paused ? `session \`${core.sessionId}\` was paused` : `\`${SPAWN_TOOL}\` was paused in session \`${core.sessionId}\``;
    return denied([{ rule: 'session.paused', message: `${what} while the sub-agent waited to start: it was not started and the budget share stays with the parent; ask again once resumed` }], 'denied', approvalId, score);
  }
  // Pauses handled so far are in the start (or stopped it); later ones are sent to the child once it started.
  const pausesKnown = core.pausesHandled;
  // The root keeps its tree's sequence progress from its first spawn on (sequences-across-tree).
  startTree(core);
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
  // Pauses forwarded while the child started went to the children listed then: not to this one.
  const missed = core.subAgentsWithinParent ? pausesMissedBy(core, workflowId, pausesKnown) : [];
  // A halt handled while the child started read the children before this one was listed.
  if (core.halted && core.haltReachesStartingChildren) await haltChild(workflowId, core.haltedBy);
  else if (missed.length > 0) await pauseChild(workflowId, missed);
  reasons.push({ rule: 'child.started', message: `sub-agent \`${agentId}\` started with its share of the budget` });
  await core.audit.record([
    core.audit.event('decided', {
      proposalSeq,
      tool: proposal.tool,
      args: proposal.args,
      detail: { childSessionId, workflowId, agentId, budget: share, intentScore: score, status: 'started', ...(mandate.mandate && core.subAgentsWithinParent ? { mandate: mandate.mandate } : {}), ...(pausedTools.length > 0 ? { pausedTools } : {}) },
    }),
  ]);
  await core.afterChange();
  return { status: 'started', sessionId: childSessionId, workflowId, budget: share, intentScore: score, reasons, ...(approvalId ? { approvalId } : {}) };
}
