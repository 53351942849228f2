/**
 * The approvals inbox: every pending approval with what an approver must judge on one screen.
 * A row of the approvals table (written only by the session's own workflow) is shown only when
 * `checkShownCall` finds it is the call the session workflow's own `state` query holds pending —
 * same run, agent, intent, tool, arguments, blast radius, policy, and the call digest recomputed
 * from them; the page signs exactly that digest. Recent calls come from the same query.
 */
import type { Client } from '@temporalio/client';
import type { Refusal } from '../approvals/check-decision';
import { checkShownCall } from '../approvals/shown-call';
import type { ApprovalStore } from '../approvals/store';
import type { ApprovalRecord, ApprovalSubject } from '../approvals/types';
import { approvalParts, groupsAtLevel, ladderLevel } from '../policies/trust';
import { stateQuery, type ActionView, type SessionStateView } from '../workflows/contract';

/** What the inbox shows of an approval: the row's subject, and what a person judges beside it. */
export interface InboxItem extends Pick<ApprovalSubject, 'approvalId' | 'sessionId' | 'workflowId' | 'firstRunId' | 'agentId' | 'owner' | 'intent' | 'redactedArgs' | 'blastRadius' | 'callDigest' | 'requestedAt' | 'deadline'> {
  readonly tool: string;
  readonly reasoning: string;
  readonly reasons: readonly { readonly rule: string; readonly message: string }[];
  readonly tier: string;
  readonly policyHash: string;
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

/** The row as the inbox shows it, if it is the call the workflow holds pending; the refusal otherwise. */
export function shownItem(row: ApprovalRecord, state: SessionStateView | undefined, now: number): { readonly ok: true; readonly item: InboxItem } | Refusal {
  const shown = checkShownCall(row, state);
  if (!shown.ok) return shown;
  const pending = shown.pending;
  const view = state!;
  const requestedAt = Date.parse(pending.requestedAt);
  const parts = approvalParts(row.requirement);
  const levels = parts.map((p) => ladderLevel(p, requestedAt, now));
  const groups = [...new Set(parts.flatMap((p, i) => groupsAtLevel(p, levels[i]!)))];
  const item: InboxItem = {
    approvalId: row.approvalId,
    sessionId: row.sessionId,
    workflowId: view.workflowId,
    firstRunId: view.firstRunId,
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
    recentCalls: view.lastActions.slice(-10),
    ...(view.intentScore !== undefined ? { intentScore: view.intentScore } : {}),
  };
  return { ok: true, item };
}

/** How many pending approvals the inbox shows, oldest first (it held 500 before: a 1,000-call backlog hid half). */
export const INBOX_LIMIT = 2_000;

/** Every pending approval the workflows confirm, oldest first, up to `INBOX_LIMIT`. */
export async function readInbox(store: ApprovalStore, readState: StateReader, now = Date.now()): Promise<InboxItem[]> {
  const rows = (await store.list({ limit: INBOX_LIMIT })).filter((r) => r.status === 'pending');
  const states = new Map<string, Promise<SessionStateView | undefined>>();
  const items = await Promise.all(
    rows.map(async (row) => {
      if (!states.has(row.workflowId)) states.set(row.workflowId, readState(row.workflowId));
      const shown = shownItem(row, await states.get(row.workflowId)!, now);
      return shown.ok ? shown.item : undefined;
    }),
  );
  return items.filter((i): i is InboxItem => i !== undefined).sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
}
