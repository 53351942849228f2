/**
 * One pending human approval inside a session: counted votes, escalation steps, the final
 * outcome. Whether a vote counts is decided by the one vote rule (`policies/trust/votes.ts`)
 * before it reaches `count`; the outcome is its tally. Pure bookkeeping (no awaits), workflow-safe.
 */
import type { ApprovalEscalation, ApprovalRequest } from '../approvals/types';
import { approvalParts, approvalTimeoutMs, escalationSteps, partLevels, tallyVotes, type CountedVote, type VoteContext } from '../policies/trust/votes';
import type { Reason } from '../policies/types';
import type { HaltSignal, PendingApprovalView } from './contract';

interface OutcomeBase {
  readonly approvalId: string;
  /** Who approved (all of them, on an approval; those so far, otherwise). */
  readonly approvers: string[];
  readonly reason?: string;
}

/** How a wait for humans ended; every case but `approved` says why the call did not run. */
export type ApprovalOutcome =
  | (OutcomeBase & { readonly status: 'approved' })
  | (OutcomeBase & { readonly status: 'denied'; readonly deniedBy: string[]; readonly reasons: Reason[] })
  | (OutcomeBase & { readonly status: 'expired' | 'cancelled'; readonly reasons: Reason[] });

export class ApprovalWait {
  readonly req: ApprovalRequest;
  readonly requestedAt: number;
  readonly proposalSeq: number;
  /** Id of the update (proposal) that waits here: how the gateway finds the approval of its call. */
  readonly proposalId: string | undefined;
  /** Digest of the session state the call digest saw (undefined for a wait restored without it). */
  readonly stateHash: string | undefined;
  outcome: ApprovalOutcome | undefined;
  #votes: CountedVote[] = [];
  #level = 0;
  /** Patch `ladder-of-every-part`: escalate at every part's steps, not the first part's alone. */
  readonly #everyPart: boolean;

  constructor(
    req: ApprovalRequest,
    at: { readonly requestedAt: number; readonly proposalSeq: number; readonly proposalId: string | undefined; readonly stateHash?: string; readonly ladderOfEveryPart?: boolean },
  ) {
    this.req = req;
    this.#everyPart = at.ladderOfEveryPart ?? false;
    this.stateHash = at.stateHash;
    this.requestedAt = at.requestedAt;
    this.proposalSeq = at.proposalSeq;
    this.proposalId = at.proposalId;
  }

  /** What the vote rule needs to know of this approval. */
  voteContext(): VoteContext {
    return { agentId: this.req.agentId, owner: this.req.owner, requirement: this.req.requirement, groupMembers: this.req.groupMembers, requestedAt: this.requestedAt, votes: [...this.#votes] };
  }

  approvers(): string[] {
    return this.#votes.filter((v) => v.approve).map((v) => v.approver);
  }

  /** The next moment something happens on its own: an escalation step or the final deadline. */
  nextDeadline(): { kind: 'escalation' | 'deadline'; at: number } {
    const steps = this.#everyPart ? escalationSteps(this.req.requirement) : this.req.requirement.escalateAfterMs;
    const deadline = this.requestedAt + approvalTimeoutMs(this.req.requirement);
    const step = steps[this.#level];
    if (step !== undefined && this.requestedAt + step < deadline) return { kind: 'escalation', at: this.requestedAt + step };
    return { kind: 'deadline', at: deadline };
  }

  /**
   * Moves to the next escalation step. With the ladder of every part, `level` counts the steps and
   * `group` is the group the step adds (the first part's, when both widen); before it, the first
   * part's next group (the last stays asked when the list runs out).
   */
  escalate(at: string): ApprovalEscalation {
    this.#level += 1;
    if (this.#everyPart) {
      const parts = approvalParts(this.req.requirement);
      const before = partLevels(this.req.requirement, this.#level - 1);
      const after = this.partLevels();
      const widened = parts.findIndex((_, i) => after[i]! > before[i]!);
      const group = widened >= 0 ? (parts[widened]!.groups[after[widened]!] ?? '') : '';
      return { approvalId: this.req.approvalId, level: this.#level, group, at };
    }
    const groups = this.req.requirement.groups;
    const group = groups[Math.min(this.#level, groups.length - 1)] ?? groups[groups.length - 1] ?? '';
    return { approvalId: this.req.approvalId, level: Math.min(this.#level, Math.max(groups.length - 1, 0)), group, at };
  }

  /** Each part's ladder level at the escalation step reached (`partLevels`). */
  partLevels(): readonly number[] {
    return partLevels(this.req.requirement, this.#level);
  }

  /** Adds a vote the vote rule counted; the tally settles the outcome (one deny denies). */
  count(vote: CountedVote, reason?: string): void {
    if (this.outcome) return;
    this.#votes.push(vote);
    const tally = tallyVotes(this.req.requirement, this.#votes);
    if (tally === 'denied') {
      this.outcome = {
        status: 'denied',
        approvalId: this.req.approvalId,
        approvers: this.approvers(),
        deniedBy: [vote.approver],
        ...(reason ? { reason } : {}),
        reasons: [{ rule: 'approval.denied', message: `denied by \`${vote.approver}\`${reason ? `: ${reason}` : ''}` }],
      };
    } else if (tally === 'approved') {
      this.outcome = { status: 'approved', approvalId: this.req.approvalId, approvers: this.approvers(), ...(reason ? { reason } : {}) };
    }
  }

  /** The approval could not be asked (its id was taken by a row with other content): denied, nothing asked. */
  refuse(rule: 'approval.conflict', message: string): void {
    if (this.outcome) return;
    this.outcome = { status: 'denied', approvalId: this.req.approvalId, approvers: [], deniedBy: [], reason: message, reasons: [{ rule, message }] };
  }

  expire(): void {
    if (this.outcome) return;
    this.outcome = {
      status: 'expired',
      approvalId: this.req.approvalId,
      approvers: this.approvers(),
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
      reason,
      reasons: [{ rule: 'session.halted', message: reason }],
    };
  }

  view(): PendingApprovalView {
    return {
      approvalId: this.req.approvalId,
      ...(this.proposalId !== undefined ? { proposalId: this.proposalId } : {}),
      proposalSeq: this.proposalSeq,
      callDigest: this.req.callDigest,
      tool: this.req.proposal.tool,
      args: this.req.proposal.args,
      redactedArgs: this.req.redactedArgs,
      policyHash: this.req.decision.policyHash,
      ...(this.stateHash !== undefined ? { stateHash: this.stateHash } : {}),
      ...(this.req.blastRadius !== undefined ? { blastRadius: this.req.blastRadius } : {}),
      requestedAt: this.req.requestedAt,
      deadline: this.req.deadline,
      groups: this.req.requirement.groups,
      approversRequired: this.req.requirement.approversRequired,
      approvedBy: this.approvers(),
    };
  }
}
