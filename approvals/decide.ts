/**
 * The path every human decision takes, whether it comes from a Slack button or the CLI: who the
 * voter is (from a key, never from a name typed in), whether the approval row can still be
 * decided, whether the vote counts under the one vote rule (`policies/trust/votes.ts`, the rule
 * the session workflow applies), and the signed `vote` envelope that carries it to the workflow.
 *
 * `checkDecision` is pure (record + vote + now → verdict). `decide` runs it with the approval row
 * locked, signs the vote over the workflow id, first run id, approval id and call digest,
 * records it and signals the workflow in the same transaction, so two racing clicks are decided
 * one after the other and a click is never signalled twice. The workflow verifies the envelope
 * and applies the same rule again: it remains the source of truth for the outcome.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { signDecision } from '../client/trust/sign';
import type { SigningKey } from '../client/trust/key-files';
import { checkSignedDecision, findKey, resolveVoter, type Keyset, type VoteDecision } from '../policies/trust';
import { approvalParts, checkVote, groupsAtLevel, ladderLevel, tallyVotes, type CountedVote, type VoteRefusal } from '../policies/trust/votes';
import { approvalSignal, type ApprovalSignal } from '../workflows/contract';
import { hasNoApprovers } from '../activities/approvals';
import type { ApprovalStore } from './store';
import type { ApprovalRecord, ApprovalVote } from './types';

export { groupsAllowedNow, hasNoApprovers } from '../activities/approvals';

/** A Slack person, as Bolt's verified interaction body names them: ids only, never a handle. */
export interface SlackIdentityRef {
  readonly slackUserId: string;
  readonly slackTeamId: string;
}

/**
 * Who votes, and with which key: a person's own approver key (CLI), or the approvals service's
 * key voting for a Slack person (`onBehalfOf`) whom the keyset's `slackUsers` maps to an approver.
 */
export interface Voter {
  readonly key: SigningKey;
  readonly onBehalfOf?: SlackIdentityRef;
}

/** A human decision to check and, by `decide`, to sign and signal. */
export interface DecisionRequest {
  readonly approvalId: string;
  readonly approve: boolean;
  readonly voter: Voter;
  readonly reason?: string;
  readonly via: 'slack' | 'cli';
  /** Identifies one click (Slack `action_ts` / view id) so a redelivery is not counted again. */
  readonly clickId?: string;
}

/** Stable codes of a refused decision. */
export type RefusalCode =
  | 'not-found'
  | 'already-decided'
  | 'expired'
  | 'key-refused'
  | 'unknown-identity'
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
  /** The approver as written in the policy's `groupMembers`: what the workflow counts. */
  readonly approver: string;
  readonly group: string;
  /** True when this vote settles the approval (a deny, or the last approval needed). */
  readonly final: boolean;
}

/** What `decide` reports. `duplicate` means this very click had already been accepted. */
export type DecideResult =
  | (Accepted & { readonly record: ApprovalRecord; readonly duplicate: boolean })
  | Refusal;

/** Sends the `approval` signal (a signed vote) to a session workflow. */
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

/** The vote rule's refusals, under the codes the CLI and the Slack app report. */
const VOTE_CODES: Readonly<Record<VoteRefusal, RefusalCode>> = {
  'approval.self': 'self-approval',
  'approval.four-eyes': 'four-eyes',
  'approval.not-member': 'not-an-approver',
  'approval.duplicate': 'already-approved-by-you',
  'approval.reason-required': 'reason-required',
  'approval.identity': 'unknown-identity',
};

/**
 * The approver a voter counts as: an approver key's principal, or the person the keyset maps a
 * Slack user id and team id to (`resolveVoter`, the workflow's own rule). The key must be
 * registered, not revoked, not past its not-after.
 */
export function identify(keyset: Keyset, voter: Voter, now: number): { readonly ok: true; readonly approver: string } | Refusal {
  const entry = findKey(keyset, voter.key.keyId);
  if (!entry) return refuse('key-refused', `key \`${voter.key.keyId}\` of \`${voter.key.principal}\` is not in the keyset: register its public key`);
  if (entry.revoked) return refuse('key-refused', `key \`${entry.keyId}\` of \`${entry.principal}\` is revoked`);
  if (entry.notAfter !== undefined && now > Date.parse(entry.notAfter)) {
    return refuse('key-refused', `key \`${entry.keyId}\` of \`${entry.principal}\` expired at ${entry.notAfter}`);
  }
  // resolveVoter reads only who the vote is for; the rest of the payload is not signed yet.
  const who = resolveVoter(keyset, entry, { onBehalfOf: voter.onBehalfOf } as VoteDecision);
  return who.ok ? who : refuse('unknown-identity', who.message);
}

/** The votes already accepted for an approval, as the vote rule counts them (parts met when cast). */
export function countedVotes(record: ApprovalRecord): CountedVote[] {
  const requestedAt = Date.parse(record.requestedAt);
  const parts = approvalParts(record.requirement);
  return record.votes.map((v) => ({
    approver: v.approver,
    approve: v.approve,
    parts: parts.map((p) => groupsAtLevel(p, ladderLevel(p, requestedAt, Date.parse(v.at))).some((g) => (record.groupMembers[g] ?? []).includes(v.approver))),
  }));
}

/** How a settled approval is described to someone deciding after the fact. */
function settledMessage(record: ApprovalRecord): string | undefined {
  switch (record.status) {
    case 'approved':
      return `approval \`${record.approvalId}\` was already approved by ${record.decidedBy.join(', ') || 'its approvers'}`;
    case 'denied':
      return `approval \`${record.approvalId}\` was already denied by ${record.decidedBy.join(', ') || 'an approver'}`;
    case 'expired':
      return `approval \`${record.approvalId}\` expired and was denied automatically`;
    case 'cancelled':
      return `approval \`${record.approvalId}\` was cancelled: the session no longer waits for it`;
    case 'pending': {
      const deny = record.votes.find((v) => !v.approve);
      if (deny) return `approval \`${record.approvalId}\` was already denied by ${deny.approver}`;
      if (tallyVotes(record.requirement, countedVotes(record)) === 'approved') {
        return `approval \`${record.approvalId}\` was already approved by ${record.votes.map((v) => v.approver).join(', ')}`;
      }
      return undefined;
    }
  }
}

/** A vote as the rule sees it: the resolved approver, the verdict, the reason. */
export interface VoteRequest {
  readonly approvalId: string;
  readonly approver: string;
  readonly approve: boolean;
  readonly reason?: string;
}

/**
 * Checks a vote against an approval row. Pure: the record's state (found, still pending, before
 * its deadline), then the one vote rule (`checkVote`) on the votes already accepted.
 */
export function checkDecision(record: ApprovalRecord | undefined, vote: VoteRequest, now: number): Accepted | Refusal {
  if (!record) return refuse('not-found', `no approval \`${vote.approvalId}\``);
  const settled = settledMessage(record);
  if (settled) return refuse(record.status === 'expired' ? 'expired' : 'already-decided', settled);
  if (now >= Date.parse(record.deadline)) {
    return refuse('expired', `approval \`${record.approvalId}\` expired at ${record.deadline} and was denied automatically`);
  }
  const votes = countedVotes(record);
  const ctx = {
    agentId: record.agentId,
    owner: record.owner,
    requirement: record.requirement,
    groupMembers: record.groupMembers,
    requestedAt: Date.parse(record.requestedAt),
    votes,
  };
  const reason = vote.reason?.trim();
  const check = checkVote(ctx, { approver: vote.approver, approve: vote.approve, ...(reason ? { reason } : {}) }, now);
  if (!check.counts) {
    if (check.rule === 'approval.not-member' && hasNoApprovers(record)) {
      const groups = approvalParts(record.requirement).flatMap((p) => p.groups).map((g) => `\`${g}\``).join(', ');
      return refuse('not-an-approver', `nobody may decide this request: the policy lists no member in ${groups}: add people to \`approvers.groups\``);
    }
    return refuse(VOTE_CODES[check.rule], check.message);
  }
  const final = tallyVotes(record.requirement, [...votes, check.vote]) !== 'pending';
  return { ok: true, approver: vote.approver, group: check.group, final };
}

/** Options of `decide`. */
export interface DecideDeps {
  readonly store: ApprovalStore;
  readonly signal: ApprovalSignaler;
  /** The keyset the worker trusts: who holds which key, and the Slack people the service may vote for. */
  readonly keyset: Keyset;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * Checks a decision with the approval row locked; when accepted, signs the vote, records it and
 * signals the session workflow before committing. A failed signal rolls the vote back.
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
      const who = identify(deps.keyset, req.voter, at);
      if (!who.ok) return who;
      const verdict = checkDecision(record, { approvalId: req.approvalId, approver: who.approver, approve: req.approve, ...(reason ? { reason } : {}) }, at);
      if (!verdict.ok) return verdict;
      if (!record) return refuse('not-found', `no approval \`${req.approvalId}\``);
      if (!record.firstRunId) return refuse('session-gone', `approval \`${record.approvalId}\` names no session run to sign for: it was requested before signed votes`);

      const envelope = signDecision(
        req.voter.key,
        {
          kind: 'vote',
          workflowId: record.workflowId,
          firstRunId: record.firstRunId,
          approvalId: record.approvalId,
          callDigest: record.callDigest,
          verdict: req.approve ? 'approve' : 'deny',
          ...(reason ? { reason } : {}),
          ...(req.voter.onBehalfOf ? { onBehalfOf: req.voter.onBehalfOf } : {}),
        },
        { now: at },
      );
      // What the workflow will check first: refuse here what it would refuse there.
      const signed = checkSignedDecision(envelope, deps.keyset, { kind: 'vote', workflowId: record.workflowId, firstRunId: record.firstRunId, usedNonces: new Set() }, at);
      if (!signed.ok) return refuse('key-refused', signed.message);

      const vote: ApprovalVote = {
        approver: verdict.approver,
        approve: req.approve,
        ...(reason ? { reason } : {}),
        via: req.via,
        ...(req.clickId ? { clickId: req.clickId } : {}),
        at: new Date(at).toISOString(),
      };
      await addVote(vote);
      await deps.signal(record.workflowId, envelope);
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
