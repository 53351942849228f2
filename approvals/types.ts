/**
 * The shape of a pending human approval, shared by the session workflow (which creates and
 * resolves it), the posting activities (Slack) and the CLI (`gatehouse approvals ...`).
 */
import type { ApprovalRequirement, Decision, Proposal } from '../policies/types';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled';

/** What the workflow hands to the `requestApproval` activity. */
export interface ApprovalRequest {
  /** Deterministic: `<sessionId>:<proposalSeq>`. */
  readonly approvalId: string;
  readonly sessionId: string;
  readonly workflowId: string;
  /** The session's first run id: a signed vote binds it with the workflow id. */
  readonly firstRunId: string;
  readonly agentId: string;
  readonly owner: string;
  readonly intent: string;
  readonly proposal: Proposal;
  /** The proposal's arguments with sensitive fields redacted: what humans see. */
  readonly redactedArgs: Readonly<Record<string, unknown>>;
  readonly blastRadius?: number;
  readonly decision: Decision;
  readonly requirement: ApprovalRequirement;
  /** Digest binding the approval to the exact call: tool, args, policy hash, state seen. */
  readonly callDigest: string;
  readonly requestedAt: string;
  readonly deadline: string;
  /** Members of each approver group, from the session's policy snapshot. */
  readonly groupMembers: Readonly<Record<string, readonly string[]>>;
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
export interface ApprovalRecord {
  readonly approvalId: string;
  readonly sessionId: string;
  readonly workflowId: string;
  /** The session's first run id ('' for a row written before signed votes): a vote binds it. */
  readonly firstRunId: string;
  readonly agentId: string;
  readonly owner: string;
  readonly intent: string;
  readonly tool: string;
  readonly reasoning: string;
  readonly redactedArgs: Readonly<Record<string, unknown>>;
  readonly blastRadius?: number;
  readonly decision: Decision;
  readonly requirement: ApprovalRequirement;
  readonly groupMembers: Readonly<Record<string, readonly string[]>>;
  readonly callDigest: string;
  readonly status: ApprovalStatus;
  readonly decidedBy: readonly string[];
  readonly reason?: string;
  readonly decidedAt?: string;
  readonly requestedAt: string;
  readonly deadline: string;
  /** Index into `requirement.groups` of the group asked last (0 before any escalation). */
  readonly escalationLevel: number;
  readonly posts: readonly SlackPost[];
  readonly votes: readonly ApprovalVote[];
}
