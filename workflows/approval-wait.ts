/**
 * One pending human approval inside a session: votes, escalation steps, the final outcome.
 * The session's `approval` signal handler votes; the proposal's handler waits on it with a
 * durable timer. Pure bookkeeping (no awaits), workflow-safe.
 */
import type { ApprovalEscalation, ApprovalRequest } from '../approvals/types';
import type { Reason } from '../policies/types';
import type { HaltSignal, PendingApprovalView } from './contract';

export interface ApprovalOutcome {
  readonly status: 'approved' | 'denied' | 'expired' | 'cancelled';
  readonly approvalId: string;
  readonly approvers: string[];
  readonly deniedBy: string[];
  readonly reason?: string;
  /** Why the call did not run, for the decision returned to the agent (empty when approved). */
  readonly reasons: Reason[];
}

export class ApprovalWait {
  readonly req: ApprovalRequest;
  readonly requestedAt: number;
  outcome: ApprovalOutcome | undefined;
  #approvers: string[] = [];
  #level = 0;

  constructor(req: ApprovalRequest, requestedAt: number) {
    this.req = req;
    this.requestedAt = requestedAt;
  }

  get proposalSeq(): number {
    const n = Number(this.req.approvalId.slice(this.req.approvalId.lastIndexOf(':') + 1));
    return Number.isFinite(n) ? n : 0;
  }

  approvers(): string[] {
    return [...this.#approvers];
  }

  hasApproved(approver: string): boolean {
    return this.#approvers.includes(approver);
  }

  /** The next moment something happens on its own: an escalation step or the final deadline. */
  nextDeadline(): { kind: 'escalation' | 'deadline'; at: number } {
    const steps = this.req.requirement.escalateAfterMs;
    const deadline = this.requestedAt + this.req.requirement.timeoutMs;
    const step = steps[this.#level];
    if (step !== undefined && this.requestedAt + step < deadline) return { kind: 'escalation', at: this.requestedAt + step };
    return { kind: 'deadline', at: deadline };
  }

  /** Moves to the next group (the last group stays asked when the list runs out). */
  escalate(at: string): ApprovalEscalation {
    this.#level += 1;
    const groups = this.req.requirement.groups;
    const group = groups[Math.min(this.#level, groups.length - 1)] ?? groups[groups.length - 1] ?? '';
    return { approvalId: this.req.approvalId, level: Math.min(this.#level, Math.max(groups.length - 1, 0)), group, at };
  }

  /** One deny ends it; N distinct approvals (N from the requirement) approve it. */
  vote(approver: string, approve: boolean, reason?: string): void {
    if (this.outcome) return;
    if (!approve) {
      this.outcome = {
        status: 'denied',
        approvalId: this.req.approvalId,
        approvers: this.approvers(),
        deniedBy: [approver],
        ...(reason ? { reason } : {}),
        reasons: [{ rule: 'approval.denied', message: `denied by \`${approver}\`${reason ? `: ${reason}` : ''}` }],
      };
      return;
    }
    if (!this.#approvers.includes(approver)) this.#approvers.push(approver);
    if (this.#approvers.length >= this.req.requirement.approversRequired) {
      this.outcome = { status: 'approved', approvalId: this.req.approvalId, approvers: this.approvers(), deniedBy: [], ...(reason ? { reason } : {}), reasons: [] };
    }
  }

  expire(): void {
    if (this.outcome) return;
    this.outcome = {
      status: 'expired',
      approvalId: this.req.approvalId,
      approvers: this.approvers(),
      deniedBy: [],
      reason: 'no decision before the deadline',
      reasons: [{ rule: 'approval.expired', message: `no decision before the deadline ${this.req.deadline}: denied automatically` }],
    };
  }

  cancel(halt: HaltSignal | undefined): void {
    if (this.outcome) return;
    const reason = halt ? `session halted by ${halt.by}: ${halt.reason}` : 'session halted';
    this.outcome = {
      status: 'cancelled',
      approvalId: this.req.approvalId,
      approvers: this.approvers(),
      deniedBy: [],
      reason,
      reasons: [{ rule: 'session.halted', message: reason }],
    };
  }

  view(): PendingApprovalView {
    return {
      approvalId: this.req.approvalId,
      tool: this.req.proposal.tool,
      requestedAt: this.req.requestedAt,
      deadline: this.req.deadline,
      groups: this.req.requirement.groups,
      approversRequired: this.req.requirement.approversRequired,
      approvedBy: this.approvers(),
    };
  }
}
