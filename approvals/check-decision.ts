/**
 * Whether a human decision may count, before anything is signed: who the voter is (from a key,
 * never from a name typed in), whether the approval row can still be decided, and whether the vote
 * counts under the one vote rule (`policies/trust/votes.ts`, the rule the session workflow
 * applies). Pure: keyset + voter + row + vote + now → verdict with a stable refusal code.
 * `client/decide.ts` runs it with the row locked, then signs and signals.
 */
import { findKey, resolveVoter, type Keyset, type VoteDecision } from '../policies/trust';
import { approvalParts, checkVote, groupsAtLevel, ladderLevel, ownerAliases, tallyVotes, type CountedVote, type VoteRefusal } from '../policies/trust/votes';
import { hasNoApprovers } from './ladder';
import type { ApprovalRecord } from './types';

/** A Slack person, as Bolt's verified interaction body names them: ids only, never a handle. */
export interface SlackIdentityRef {
  readonly slackUserId: string;
  readonly slackTeamId: string;
}

/** Who votes, as far as the check needs: the key's id and principal, and whom it votes for. */
export interface VoterIdentity {
  readonly key: { readonly keyId: string; readonly principal: string };
  readonly onBehalfOf?: SlackIdentityRef;
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
  | 'session-gone'
  /** The row does not show the call its session waits for (`approvals/shown-call.ts`). */
  | 'call-mismatch'
  /** The session waits for no such approval: a row nobody asked to be decided. */
  | 'not-pending'
  /** An approval clicked where the call was not shown whole (a Slack message cuts long arguments). */
  | 'not-shown-whole'
  /** `approvals approve` without the call digest of the call it printed (`--digest`), or without a yes at the terminal. */
  | 'digest-required'
  /** The digest given (`--digest`), or the one of the call shown, is not the approval's. */
  | 'digest-mismatch'
  /** The person answered no when asked at the terminal. */
  | 'not-confirmed'
  /** The session workflow checked the vote itself and did not count it (its alert names the rule). */
  | 'session-refused';

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

export function refuse(code: RefusalCode, message: string): Refusal {
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
export function identify(keyset: Keyset, voter: VoterIdentity, now: number): { readonly ok: true; readonly approver: string } | Refusal {
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
export function checkDecision(record: ApprovalRecord | undefined, vote: VoteRequest, now: number, keyset?: Pick<Keyset, 'slackUsers'>): Accepted | Refusal {
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
    // As the workflow counts it (four-eyes-by-identity): the owner under every name it goes by.
    ...(keyset ? { ownerAliases: ownerAliases(keyset, record.owner) } : {}),
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

