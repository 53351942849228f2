/** The `state` query's answer: what an operator (or the gateway) sees of a running session. */
import { budgetLeft } from '../policies';
import type { ApprovalDesk } from './approval-desk';
import { nowMs } from './clock';
import type { SessionStateView } from './contract';
import type { SessionCore } from './session-core';

export function sessionView(core: SessionCore, desk: ApprovalDesk): SessionStateView {
  const left = core.compiled && core.policyState ? budgetLeft(core.compiled, core.policyState, nowMs()) : { actions: 0, writes: 0, critical: 0, tokens: 0 };
  return {
    sessionId: core.sessionId,
    workflowId: core.workflowId,
    firstRunId: core.firstRunId,
    agentId: core.agentId,
    owner: core.owner,
    principal: core.principal,
    intent: core.input.intent,
    ...(core.input.parentSessionId ? { parentSessionId: core.input.parentSessionId } : {}),
    mode: core.mode,
    paused: core.paused || core.pausedTools.size > 0,
    pausedTools: [...core.pausedTools].sort(),
    halted: core.halted,
    ended: core.summary !== undefined || core.endRequested,
    policyHash: core.compiled?.hash ?? '',
    counters: { ...core.counters },
    budgetLeft: { actions: left.actions, writes: left.writes, critical: left.critical, tokens: left.tokens },
    ...(core.intentScore !== undefined ? { intentScore: core.intentScore } : {}),
    pendingApprovals: desk.pendingViews(),
    ...(core.heldByPause.size > 0 ? { heldByPause: [...core.heldByPause].sort((a, b) => a - b) } : {}),
    lastActions: [...core.lastActions],
  };
}
