/**
 * The checks every human decision goes through, whether it comes from a Slack button or the
 * CLI, and the signal that carries an accepted one to the session workflow.
 *
 * `checkDecision` is pure (record + request + now → verdict). `decide` runs it with the approval
 * row locked, records the vote and signals the workflow in the same transaction, so two racing
 * clicks are decided one after the other and a click is never signalled twice. The session
 * workflow re-checks on its side and remains the source of truth for the outcome.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { approvalSignal, type ApprovalSignal } from '../workflows/contract';
import type { ApprovalStore } from './store';
import { allowedGroups, currentLevel, hasNoApprovers } from '../activities/approvals';
import type { ApprovalRecord, ApprovalVote } from './types';

export { allowedGroups, currentLevel, hasNoApprovers } from '../activities/approvals';

/** Who is deciding: a Slack user (id and handle) or a CLI `--as` name. At least one is set. */
export interface Actor {
  readonly id?: string;
  readonly name?: string;
}

/** A human decision to check (and, by `decide`, to signal). */
export interface DecisionRequest {
  readonly approvalId: string;
  readonly approve: boolean;
  readonly actor: Actor;
  readonly reason?: string;
  readonly via: 'slack' | 'cli';
  /** Identifies one click (Slack `action_ts` / view id) so a redelivery is not counted again. */
  readonly clickId?: string;
}

/** Stable codes of a refused decision. */
export type RefusalCode =
  | 'invalid-input'
  | 'not-found'
  | 'already-decided'
  | 'expired'
  | 'self-approval'
  | 'four-eyes'
  | 'not-an-approver'
  | 'already-approved-by-you'
  | 'reason-required'
  | 'session-gone';

/** A refused decision: nothing was recorded and nothing was signalled. */
export interface Refusal {
  readonly ok: false;
  readonly code: RefusalCode;
  readonly message: string;
}

/** The pure check's positive answer: who (as the policy names them) decides, and in which group. */
export interface Accepted {
  readonly ok: true;
  /** The approver as written in the policy's `groupMembers`: what the workflow re-checks. */
  readonly approver: string;
  readonly group: string;
  /** True when this vote settles the approval (a deny, or the last approval needed). */
  readonly final: boolean;
}

/** What `decide` reports. `duplicate` means this very click had already been accepted. */
export type DecideResult =
  | (Accepted & { readonly record: ApprovalRecord; readonly duplicate: boolean })
  | Refusal;

/** Sends the `approval` signal to a session workflow. */
export type ApprovalSignaler = (workflowId: string, signal: ApprovalSignal) => Promise<void>;

/** Thrown by a signaler when the session workflow no longer runs. */
export class SessionGoneError extends Error {
  readonly type = 'SessionGoneError';
  constructor(readonly workflowId: string) {
    super(`session workflow \`${workflowId}\` is not running`);
    this.name = 'SessionGoneError';
  }
}

function refuse(code: RefusalCode, message: string): Refusal {
  return { ok: false, code, message };
}

function describeActor(actor: Actor): string {
  return actor.name ?? actor.id ?? 'unknown';
}

/** True when `who` (as written in the policy or the session) names this actor. */
function names(actor: Actor, who: string): boolean {
  return who !== '' && (actor.id === who || actor.name === who);
}

/** How a settled approval is described to someone clicking after the fact. */
function settledMessage(record: ApprovalRecord): string | undefined {
  const votes = record.votes;
  const deny = votes.find((v) => !v.approve);
  const approvals = votes.filter((v) => v.approve);
  switch (record.status) {
    case 'approved':
      return `approval \`${record.approvalId}\` was already approved by ${record.decidedBy.join(', ') || 'its approvers'}`;
    case 'denied':
      return `approval \`${record.approvalId}\` was already denied by ${record.decidedBy.join(', ') || 'an approver'}`;
    case 'expired':
      return `approval \`${record.approvalId}\` expired and was denied automatically`;
    case 'cancelled':
      return `approval \`${record.approvalId}\` was cancelled: the session no longer waits for it`;
    case 'pending':
      if (deny) return `approval \`${record.approvalId}\` was already denied by ${deny.approver}`;
      if (approvals.length >= record.requirement.approversRequired) {
        return `approval \`${record.approvalId}\` was already approved by ${approvals.map((v) => v.approver).join(', ')}`;
      }
      return undefined;
  }
}

/**
 * Checks a decision against an approval row. Pure: the same inputs always give the same answer.
 * Order matters only for which reason is reported; every refusal changes nothing.
 */
export function checkDecision(record: ApprovalRecord | undefined, req: DecisionRequest, now: number): Accepted | Refusal {
  if (!req.actor.id && !req.actor.name) return refuse('invalid-input', 'an approver is required');
  if (!record) return refuse('not-found', `no approval \`${req.approvalId}\``);

  const settled = settledMessage(record);
  if (settled) return refuse(record.status === 'expired' ? 'expired' : 'already-decided', settled);
  if (now >= Date.parse(record.deadline)) {
    return refuse('expired', `approval \`${record.approvalId}\` expired at ${record.deadline} and was denied automatically`);
  }

  const who = describeActor(req.actor);
  // The agent can never approve (or deny) its own call.
  if (names(req.actor, record.agentId)) {
    return refuse('self-approval', `\`${who}\` is the requesting agent and cannot decide on its own call`);
  }
  // Four eyes: the person the agent acts for may not approve it either.
  if (record.requirement.fourEyes && names(req.actor, record.owner)) {
    return refuse('four-eyes', `\`${who}\` owns this session and the policy requires someone else to decide (four eyes)`);
  }

  const level = currentLevel(record, now);
  const groups = allowedGroups(record, level);
  let approver: string | undefined;
  let group: string | undefined;
  // Only a listed member of a group asked so far may decide. A policy that lists nobody fails
  // closed: the request can only expire, which denies it.
  for (const g of groups) {
    const member = (record.groupMembers[g] ?? []).find((m) => names(req.actor, m));
    if (member !== undefined) {
      approver = member;
      group = g;
      break;
    }
  }
  if (approver === undefined || group === undefined) {
    if (hasNoApprovers(record)) {
      return refuse('not-an-approver', `nobody may decide this request: the policy lists no member in ${record.requirement.groups.map((g) => `\`${g}\``).join(', ')}: add people to \`approvers.groups\``);
    }
    return refuse(
      'not-an-approver',
      `\`${who}\` is not in an approver group for this request: allowed now: ${groups.map((g) => `\`${g}\``).join(', ') || 'none'}`,
    );
  }
  // The policy member may be written as a handle while the actor is matched by id (or vice versa):
  // also compare the resolved approver with the agent and the owner.
  if (approver === record.agentId) {
    return refuse('self-approval', `\`${who}\` is the requesting agent and cannot decide on its own call`);
  }
  if (record.requirement.fourEyes && approver === record.owner) {
    return refuse('four-eyes', `\`${who}\` owns this session and the policy requires someone else to decide (four eyes)`);
  }

  if (req.approve && record.votes.some((v) => v.approve && v.approver === approver)) {
    const required = record.requirement.approversRequired;
    return refuse(
      'already-approved-by-you',
      `\`${who}\` already approved \`${record.approvalId}\`: it needs ${required} distinct approvers`,
    );
  }
  if (!req.approve && !req.reason?.trim()) {
    return refuse('reason-required', 'a reason is required to deny');
  }

  const approvals = record.votes.filter((v) => v.approve).length + (req.approve ? 1 : 0);
  const final = !req.approve || approvals >= record.requirement.approversRequired;
  return { ok: true, approver, group, final };
}

/** Options of `decide`. */
export interface DecideDeps {
  readonly store: ApprovalStore;
  readonly signal: ApprovalSignaler;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * Checks a decision with the approval row locked; when accepted, records the vote and signals
 * the session workflow before committing. A failed signal rolls the vote back.
 */
export async function decide(deps: DecideDeps, req: DecisionRequest): Promise<DecideResult> {
  const now = deps.now ?? Date.now;
  const reason = req.reason?.trim() || undefined;
  try {
    return await deps.store.withLock(req.approvalId, async ({ record, addVote }) => {
      // Slack redelivers an interaction it thinks was lost: the same click is answered, not re-counted.
      if (record && req.clickId) {
        const same = record.votes.find((v) => v.clickId === req.clickId);
        if (same) {
          const group = record.requirement.groups.find((g) => record.groupMembers[g]?.includes(same.approver)) ?? '';
          return { ok: true, approver: same.approver, group, final: false, record, duplicate: true };
        }
      }
      const at = now();
      const verdict = checkDecision(record, { ...req, ...(reason ? { reason } : {}) }, at);
      if (!verdict.ok) return verdict;
      if (!record) return refuse('not-found', `no approval \`${req.approvalId}\``);

      const vote: ApprovalVote = {
        approver: verdict.approver,
        approve: req.approve,
        ...(reason ? { reason } : {}),
        via: req.via,
        ...(req.clickId ? { clickId: req.clickId } : {}),
        at: new Date(at).toISOString(),
      };
      await addVote(vote);
      await deps.signal(record.workflowId, {
        approvalId: record.approvalId,
        approve: req.approve,
        approver: verdict.approver,
        ...(reason ? { reason } : {}),
      });
      return { ...verdict, record: { ...record, votes: [...record.votes, vote] }, duplicate: false };
    });
  } catch (err) {
    if (err instanceof SessionGoneError) {
      return refuse('session-gone', `${err.message}: the approval can no longer be decided`);
    }
    throw err;
  }
}

/** A signaler over a Temporal client: `approval` signal to the workflow named by the row. */
export function temporalSignaler(client: Client): ApprovalSignaler {
  return async (workflowId, signal) => {
    try {
      await client.workflow.getHandle(workflowId).signal(approvalSignal, signal);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new SessionGoneError(workflowId);
      throw err;
    }
  };
}
