/**
 * What the workflow reads from a compiled policy beyond `evaluate`: approver group members for
 * approval requests, the intent threshold for sub-agents, the requirement of out-of-band unlocks
 * and of far-from-intent sub-agents, and the parent's budget after a child takes its share.
 * Workflow-safe (pure reads of the compiled policy).
 */
import { requirement, type CompiledPolicy } from '../policies/compile';
import type { SessionState } from '../policies/state';
import type { ApprovalRequirement } from '../policies/types';
import type { BudgetOverride } from './contract';

/** Members of each named approver group, from the session's policy snapshot. */
export function approvalGroupMembers(policy: CompiledPolicy, groups: readonly string[]): Record<string, readonly string[]> {
  const out: Record<string, readonly string[]> = {};
  for (const g of groups) out[g] = [...(policy.document.approvers.groups[g] ?? [])];
  return out;
}

/** Below this similarity a sub-agent's intent is "far" from its parent's. */
export function intentThreshold(policy: CompiledPolicy): number {
  return policy.intent.reviewBelow;
}

/** Who approves a sub-agent whose intent is far from its parent's: the policy's default approvers. */
export function subAgentRequirement(policy: CompiledPolicy): ApprovalRequirement {
  return requirement(policy.document.approvers.default, false);
}

/** The parent's state after a child took `share`: its caps are lowered by the share. */
export function withChildBudgetTaken(state: SessionState, share: Required<BudgetOverride>): SessionState {
  const l = state.limits;
  return {
    ...state,
    limits: {
      actions: Math.max(0, l.actions - share.actions),
      writes: Math.max(0, l.writes - share.writes),
      critical: Math.max(0, l.critical - share.critical),
      tokens: Math.max(0, l.tokens - share.tokens),
    },
  };
}
