/**
 * The shape of a pending human approval, shared by the session workflow (which creates and
 * resolves it), the posting activities (Slack) and the CLI (`gatehouse approvals ...`).
 */
import type { ApprovalRequirement, Decision, Proposal } from '../policies/types';

/** What a sensitive argument value is replaced with wherever people read it (`activities/tools/redact.ts` writes it). */
export const REDACTED = '[REDACTED]';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled';

/** What an approval is about, the same in the workflow's request and in the table's row. */
export interface ApprovalSubject {
  /** Deterministic: `<sessionId>:<proposalSeq>`. */
  readonly approvalId: string;
  readonly sessionId: string;
  readonly workflowId: string;
  /** The session's first run id: a signed vote binds it with the workflow id ('' in a row written before signed votes). */
  readonly firstRunId: string;
  readonly agentId: string;
  readonly owner: string;
  readonly intent: string;
  /** The proposal's arguments with sensitive fields redacted: what humans see. */
  readonly redactedArgs: Readonly<Record<string, unknown>>;
  readonly blastRadius?: number;
  readonly decision: Decision;
  readonly requirement: ApprovalRequirement;
  /** Members of each approver group, from the session's policy snapshot. */
  readonly groupMembers: Readonly<Record<string, readonly string[]>>;
  /** Digest binding the approval to the exact call: tool, args, policy hash, state seen. */
  readonly callDigest: string;
  readonly requestedAt: string;
  readonly deadline: string;
}

/** What the workflow hands to the `requestApproval` activity. */
export interface ApprovalRequest extends ApprovalSubject {
  readonly proposal: Proposal;
}

/** A change the workflow reports back so the message and the approvals table reflect it. */
export interface ApprovalResolution {
  readonly approvalId: string;
  readonly status: Exclude<ApprovalStatus, 'pending'>;
  readonly decidedBy: readonly string[];
  readonly reason?: string;
  readonly at: string;
}

/** An escalation step the workflow reports when a deadline passes with no decision. */
export interface ApprovalEscalation {
  readonly approvalId: string;
  /** Index into `requirement.groups` of the group now asked. */
  readonly level: number;
  readonly group: string;
  readonly at: string;
}

/** Where a request was posted in Slack: one post per escalation level, updated in place. */
export interface SlackPost {
  /** 0 for the first request, n for the n-th escalation. */
  readonly level: number;
  readonly channel: string;
  readonly ts: string;
}

/** One accepted click or CLI decision, recorded before the workflow is signalled. */
export interface ApprovalVote {
  /** The approver as written in the policy's `groupMembers` (Slack user id or name). */
  readonly approver: string;
  readonly approve: boolean;
  readonly reason?: string;
  readonly via: 'slack' | 'cli';
  /** Slack `action_ts`/view id of the click, so a redelivered click is recognised. */
  readonly clickId?: string;
  readonly at: string;
}

/** A row of the `approvals` table as the CLI, the Slack app and the activities read it. */
export interface ApprovalRecord extends ApprovalSubject {
  readonly tool: string;
  readonly reasoning: string;
  readonly status: ApprovalStatus;
  readonly decidedBy: readonly string[];
  readonly reason?: string;
  readonly decidedAt?: string;
  /** Index into `requirement.groups` of the group asked last (0 before any escalation). */
  readonly escalationLevel: number;
  readonly posts: readonly SlackPost[];
  readonly votes: readonly ApprovalVote[];
}
