/**
 * The shapes written to the audit trail. The session workflow's activities produce them; the
 * store (`audit/store.ts`) persists them append-only and hash-chained.
 */
import type { Decision, Proposal, ToolInfo } from '../policies/types';

export type AuditEventKind =
  | 'session-started'
  | 'proposed'
  | 'decided'
  | 'approval-requested'
  | 'escalated'
  | 'approved'
  | 'denied'
  | 'expired'
  | 'executed'
  | 'failed'
  | 'halted'
  | 'paused'
  | 'resumed'
  | 'budget-raised'
  | 'mode-changed'
  | 'alert'
  | 'session-ended';

/**
 * One event to append. `seq` is assigned by the workflow (deterministic, gap-free per session),
 * so a retried activity re-inserting the same (sessionId, seq) is a no-op: exactly once.
 */
export interface AuditEventInput {
  readonly sessionId: string;
  readonly seq: number;
  readonly kind: AuditEventKind;
  /** Workflow time of the event (ISO 8601). */
  readonly at: string;
  /** Which proposal of the session this event belongs to (1-based), when it belongs to one. */
  readonly proposalSeq?: number;
  readonly tool?: string;
  /** Arguments with the tool's sensitive fields already redacted. */
  readonly args?: Readonly<Record<string, unknown>>;
  readonly reasoning?: string;
  readonly decision?: Decision;
  readonly approvalId?: string;
  readonly approver?: string;
  readonly latencyMs?: number;
  readonly tokenCost?: number;
  readonly resultStatus?: string;
  readonly error?: string;
  /** Anything else worth keeping (kind-specific). */
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** The row of a session in the `sessions` table (mutable summary; events are the truth). */
export interface SessionRecord {
  readonly sessionId: string;
  readonly workflowId: string;
  /** The first run of the session's workflow: a session id belongs to exactly one. */
  readonly firstRunId?: string;
  readonly agentId: string;
  readonly owner: string;
  readonly intent: string;
  readonly parentSessionId?: string;
  readonly policyHash: string;
  /** The policy document the session snapshotted, kept for evidence and backtests. */
  readonly policy: unknown;
  /** The tool catalog the session compiled its policy against: what `audit verify` re-derives tiers from. */
  readonly tools?: readonly ToolInfo[];
  readonly startedAt: string;
}

/** A change to a session's summary row. */
export interface SessionPatch {
  readonly mode?: string;
  readonly finalState?: string;
  readonly endedAt?: string;
  readonly counters?: Readonly<Record<string, number>>;
  readonly intentScore?: number;
  readonly flaggedForReview?: boolean;
}

export type { Proposal };
