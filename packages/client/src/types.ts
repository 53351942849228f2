/**
 * What the Gatehouse gateway sends and receives (`/v1`, docs/reference/http-api.md), as plain
 * readonly types. They mirror the session contract (`workflows/contract.ts`) and the Python
 * client's models without importing either: this package stands alone.
 */

export type Verdict = 'allow' | 'approve' | 'deny';
export type Tier = 'autonomous' | 'approval' | 'blocked';
export type SessionMode = 'normal' | 'read-only' | 'review' | 'closed';
/** How a proposal ended: ran, refused, ran and failed, or no person decided before the deadline. */
export type FinalStatus = 'executed' | 'denied' | 'failed' | 'expired';
export type FinalState = 'completed' | 'blocked' | 'cancelled' | 'error' | 'halted';

/** Why a decision was made: a stable rule id (`tier.destructive`, `budget.writes`, ...) and a message. */
export interface Reason {
  readonly rule: string;
  readonly message: string;
}

/** Who must approve a held call, and how many of them. */
export interface ApprovalRequirement {
  readonly groups: readonly string[];
  readonly approversRequired: number;
  readonly [field: string]: unknown;
}

/** The policy's decision on one proposal: a pure function of policy, session state, proposal and time. */
export interface Decision {
  readonly verdict: Verdict;
  readonly tier: Tier;
  readonly reasons: readonly Reason[];
  readonly policyHash: string;
  readonly approval?: ApprovalRequirement;
  readonly unlock?: ApprovalRequirement;
}

/** Per-session budget limits: they may only lower the policy's own. */
export interface Budget {
  readonly actions?: number;
  readonly writes?: number;
  readonly critical?: number;
  readonly tokens?: number;
}

/** What a session's intent covers: tool names or globs, resource families. */
export interface Mandate {
  readonly tools?: readonly string[];
  readonly resources?: readonly string[];
}

/** A tool call the agent proposes; Gatehouse decides whether it runs. */
export interface Proposal {
  readonly tool: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly reasoning: string;
  readonly tokenCost?: number;
  /** Handed to the tool (as `<sessionId>:<key>`), so a tool that honours keys makes its effect once; each `propose` is still a proposal of its own. */
  readonly idempotencyKey?: string;
  /** Ask people to unlock a call denied only by a forbidden transition. */
  readonly requestUnlock?: boolean;
}

/** The final outcome of a proposal. `result` is the tool's answer when it ran, as JSON in the shape of the tool's output schema. */
export interface ProposeResult {
  readonly status: FinalStatus;
  readonly decision: Decision;
  readonly result?: any;
  readonly error?: { readonly type: string; readonly message: string };
  /** Set when people were asked: the approval's id (`gatehouse approvals show <id>`). */
  readonly approvalId?: string;
  /** Position of the proposal in its session (1-based). */
  readonly sequence: number;
}

/** A proposal still waiting, usually for a person: `session.waitFor(pending)` reads its outcome. */
export interface Pending {
  readonly status: 'pending';
  readonly proposalId: string;
  /** The approval it waits for; absent while it is queued behind another call. */
  readonly approvalId?: string;
  readonly proposalSeq?: number;
}

export type ProposeOutcome = ProposeResult | Pending;

/** The gateway's answer to a session start. */
export interface StartedSession {
  readonly sessionId: string;
  readonly workflowId: string;
  readonly agentId: string;
  readonly owner: string;
  readonly policyHash: string;
  readonly mode: SessionMode;
}

export interface Counters {
  readonly proposals: number;
  readonly executed: number;
  readonly denied: number;
  readonly failed: number;
  readonly expired: number;
  readonly tokens: number;
}

/** A held call as the session's state shows it. */
export interface PendingApproval {
  readonly approvalId: string;
  readonly proposalId?: string;
  readonly proposalSeq: number;
  readonly callDigest: string;
  readonly tool: string;
  readonly requestedAt: string;
  readonly deadline: string;
  readonly groups: readonly string[];
  readonly approversRequired: number;
  readonly approvedBy: readonly string[];
}

/** A session's state: mode, counters, budget left, held calls, last actions. */
export interface SessionState {
  readonly sessionId: string;
  readonly workflowId: string;
  readonly agentId: string;
  readonly owner: string;
  readonly principal: string;
  readonly intent: string;
  readonly parentSessionId?: string;
  readonly mode: SessionMode;
  readonly paused: boolean;
  readonly halted: boolean;
  readonly ended: boolean;
  readonly policyHash: string;
  readonly counters: Counters;
  readonly budgetLeft: { readonly actions: number; readonly writes: number; readonly critical: number; readonly tokens: number };
  readonly intentScore?: number;
  readonly pendingApprovals: readonly PendingApproval[];
  readonly lastActions: readonly { readonly sequence: number; readonly at: string; readonly tool: string; readonly status: FinalStatus; readonly verdict: Verdict }[];
}

/** A session's final summary, the answer to `end`. */
export interface SessionSummary {
  readonly sessionId: string;
  readonly finalState: FinalState;
  readonly mode: SessionMode;
  readonly counters: Counters;
  readonly reason?: string;
}

/** The outcome of spawning a sub-agent. */
export interface SpawnChildResult {
  readonly status: 'started' | 'denied' | 'expired';
  readonly sessionId: string;
  readonly workflowId: string;
  /** The share of the parent's remaining budget the child got (when started). */
  readonly budget?: Budget;
  readonly intentScore?: number;
  readonly reasons: readonly Reason[];
  readonly approvalId?: string;
}
