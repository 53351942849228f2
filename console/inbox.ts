/**
 * The approvals inbox: every pending approval with what an approver must judge on one screen.
 * A row of the approvals table (written only by the session's own workflow) supplies the details —
 * redacted arguments, blast radius, reasons, intent, reasoning — and is shown only when the
 * session workflow's own `state` query still holds that approval pending with the same tool and
 * call digest; the page signs exactly that digest. Recent calls come from the same query.
 */
import type { Client } from '@temporalio/client';
import type { ApprovalStore } from '../approvals/store';
import type { ApprovalRecord } from '../approvals/types';
import { approvalParts, groupsAtLevel, ladderLevel } from '../policies/trust';
import { stateQuery, type ActionView, type PendingApprovalView, type SessionStateView } from '../workflows/contract';

export interface InboxItem {
  readonly approvalId: string;
  readonly sessionId: string;
  readonly workflowId: string;
  readonly firstRunId: string;
  readonly agentId: string;
  readonly owner: string;
  readonly intent: string;
  readonly tool: string;
  readonly reasoning: string;
  readonly redactedArgs: Readonly<Record<string, unknown>>;
  readonly blastRadius?: number;
  readonly reasons: readonly { readonly rule: string; readonly message: string }[];
  readonly tier: string;
  readonly policyHash: string;
  readonly callDigest: string;
  readonly requestedAt: string;
  readonly deadline: string;
  /** How many escalation steps have passed (0: the first group only). */
  readonly escalationLevel: number;
  /** Groups that may decide now, with their members. */
  readonly groupsNow: readonly { readonly group: string; readonly members: readonly string[] }[];
  readonly approversRequired: number;
  readonly approvedBy: readonly string[];
  readonly fourEyes: boolean;
  readonly recentCalls: readonly ActionView[];
  readonly intentScore?: number;
}

/** The session's state, or undefined when the workflow is gone or does not answer. */
export type StateReader = (workflowId: string) => Promise<SessionStateView | undefined>;

export function temporalStateReader(client: Client): StateReader {
  return async (workflowId) => {
    try {
      return await client.workflow.getHandle(workflowId).query(stateQuery);
    } catch {
      return undefined;
    }
  };
}

/** The row as the inbox shows it, if the workflow's own pending approval matches it. */
export function inboxItem(row: ApprovalRecord, state: SessionStateView | undefined, now: number): InboxItem | undefined {
  const pending: PendingApprovalView | undefined = state?.pendingApprovals.find((p) => p.approvalId === row.approvalId);
  // Shown only as the workflow holds it: same tool, same digest, same deadline.
  if (!state || !pending || pending.tool !== row.tool || pending.callDigest !== row.callDigest || pending.deadline !== row.deadline) return undefined;
  const requestedAt = Date.parse(pending.requestedAt);
  const parts = approvalParts(row.requirement);
  const levels = parts.map((p) => ladderLevel(p, requestedAt, now));
  const groups = [...new Set(parts.flatMap((p, i) => groupsAtLevel(p, levels[i]!)))];
  return {
    approvalId: row.approvalId,
    sessionId: row.sessionId,
    workflowId: state.workflowId,
    firstRunId: state.firstRunId,
    agentId: row.agentId,
    owner: row.owner,
    intent: row.intent,
    tool: pending.tool,
    reasoning: row.reasoning,
    redactedArgs: row.redactedArgs,
    ...(row.blastRadius !== undefined ? { blastRadius: row.blastRadius } : {}),
    reasons: row.decision.reasons.map((r) => ({ rule: r.rule, message: r.message })),
    tier: row.decision.tier,
    policyHash: row.decision.policyHash,
    callDigest: pending.callDigest,
    requestedAt: pending.requestedAt,
    deadline: pending.deadline,
    escalationLevel: Math.max(...levels),
    groupsNow: groups.map((g) => ({ group: g, members: row.groupMembers[g] ?? [] })),
    approversRequired: pending.approversRequired,
    approvedBy: pending.approvedBy,
    fourEyes: parts.some((p) => p.fourEyes),
    recentCalls: state.lastActions.slice(-10),
    ...(state.intentScore !== undefined ? { intentScore: state.intentScore } : {}),
  };
}

/** Every pending approval the workflows confirm, oldest first. */
export async function readInbox(store: ApprovalStore, readState: StateReader, now = Date.now()): Promise<InboxItem[]> {
  const rows = (await store.list({ limit: 500 })).filter((r) => r.status === 'pending');
  const states = new Map<string, Promise<SessionStateView | undefined>>();
  const items = await Promise.all(
    rows.map(async (row) => {
      if (!states.has(row.workflowId)) states.set(row.workflowId, readState(row.workflowId));
      return inboxItem(row, await states.get(row.workflowId)!, now);
    }),
  );
  return items.filter((i): i is InboxItem => i !== undefined).sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
}
