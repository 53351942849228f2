/**
 * The one vote rule. Whether a human's vote on a pending approval counts is decided here and
 * nowhere else: the session workflow (the source of truth) and the approvals service (which
 * refuses early, with a message for the person clicking) both call it.
 *
 * A vote counts only when the voter is a member of a group the ladder has reached *now*, is not
 * the session's agent, is not its owner where four eyes applies, has not already approved, and
 * gives a reason when denying. An approval may have two parts — an out-of-band unlock of a
 * forbidden transition and the call's own approval — and is granted only when both are satisfied.
 * Pure and deterministic.
 */
import type { ApprovalRequirement } from '../types';
import type { KeyEntry, Keyset } from './keyset';
import type { VoteDecision } from './decisions';

/** A vote that was counted, with the parts of the approval it satisfied when it was cast. */
export interface CountedVote {
  readonly approver: string;
  readonly approve: boolean;
  /** One flag per part (`approvalParts`): true where the voter qualified for that part. */
  readonly parts: readonly boolean[];
}

/** Everything the rule needs about one pending approval. */
export interface VoteContext {
  readonly agentId: string;
  readonly owner: string;
  readonly requirement: ApprovalRequirement;
  readonly groupMembers: Readonly<Record<string, readonly string[]>>;
  /** ms */
  readonly requestedAt: number;
  readonly votes: readonly CountedVote[];
  /**
   * Other names the owner goes by (`ownerAliases`): with it, the agent and the owner are recognised
   * whatever their case or surrounding spaces, and under any alias. Absent (runs before the patch
   * `four-eyes-by-identity`): names compare exactly.
   */
  readonly ownerAliases?: readonly string[];
}

/**
 * The approver names a session's owner goes by besides its own: the approver a Slack identity of
 * that user id maps to (an owner written as a Slack id, `U0…`, votes through Slack under the mapped
 * name, and four eyes must still know it is the owner).
 */
export function ownerAliases(keyset: Pick<Keyset, 'slackUsers'>, owner: string): string[] {
  const id = sameName(owner);
  return keyset.slackUsers.filter((u) => sameName(u.userId) === id).map((u) => u.approver);
}

function sameName(name: string): string {
  return name.trim().toLowerCase();
}

export interface Vote {
  readonly approver: string;
  readonly approve: boolean;
  readonly reason?: string;
}

export type VoteRefusal = 'approval.self' | 'approval.four-eyes' | 'approval.not-member' | 'approval.duplicate' | 'approval.reason-required' | 'approval.identity';

export type VoteCheck =
  | { readonly counts: true; readonly vote: CountedVote; readonly group: string }
  | { readonly counts: false; readonly rule: VoteRefusal; readonly message: string };

/** The parts an approval needs: its own requirement, then (for an unlock) the call's own approval. */
export function approvalParts(req: ApprovalRequirement): readonly ApprovalRequirement[] {
  return req.alsoRequired ? [req, req.alsoRequired] : [req];
}

/** Escalation level of one part at `now`: how many of its escalation steps have passed. */
export function ladderLevel(part: ApprovalRequirement, requestedAt: number, now: number): number {
  let level = 0;
  part.escalateAfterMs.forEach((ms, i) => {
    if (now >= requestedAt + ms) level = Math.max(level, i + 1);
  });
  return Math.min(level, Math.max(0, part.groups.length - 1));
}

/** Groups allowed to decide a part at `level`: the ladder widens, the first group keeps its say. */
export function groupsAtLevel(part: ApprovalRequirement, level: number): readonly string[] {
  return part.groups.slice(0, level + 1);
}

/**
 * The approval's escalation steps (ms after the request, ascending, each once): those of every
 * part, since `ladderLevel` widens every part on its own clock. Step `n` is escalation level `n`.
 */
export function escalationSteps(req: ApprovalRequirement): readonly number[] {
  return [...new Set(approvalParts(req).flatMap((p) => p.escalateAfterMs))].sort((a, b) => a - b);
}

/**
 * Each part's ladder level once `level` escalation steps (`escalationSteps`) have passed: what the
 * vote rule allows at that moment. With one part, `level` itself.
 */
export function partLevels(req: ApprovalRequirement, level: number): readonly number[] {
  const steps = escalationSteps(req);
  const at = level > 0 ? steps[Math.min(level, steps.length) - 1] : undefined;
  return approvalParts(req).map((p) => (at === undefined ? 0 : ladderLevel(p, 0, at)));
}

/** When the approval is denied automatically: the earliest deadline of its parts. */
export function approvalTimeoutMs(req: ApprovalRequirement): number {
  return Math.min(...approvalParts(req).map((p) => p.timeoutMs));
}

function list(groups: readonly string[]): string {
  return groups.map((g) => `\`${g}\``).join(', ') || 'none';
}

/** Decides whether `vote` counts on the approval described by `ctx` at time `now` (ms). */
export function checkVote(ctx: VoteContext, vote: Vote, now: number): VoteCheck {
  const who = vote.approver;
  const parts = approvalParts(ctx.requirement);
  if (who === '') return { counts: false, rule: 'approval.identity', message: 'a vote must name its approver' };
  const aliases = ctx.ownerAliases;
  const is = (name: string): boolean => (aliases === undefined ? who === name : sameName(who) === sameName(name));
  // The agent can never decide on its own call.
  if (is(ctx.agentId)) return { counts: false, rule: 'approval.self', message: `agent \`${who}\` may not decide on its own call` };
  // Four eyes: the person the agent acts for may not decide either, under any name they go by.
  if (parts.some((p) => p.fourEyes) && (is(ctx.owner) || (aliases ?? []).some(is))) {
    return { counts: false, rule: 'approval.four-eyes', message: `\`${who}\` owns this session and the policy requires someone else to decide (four eyes)` };
  }
  // Fail closed: only a listed member of a group the ladder has reached counts; nobody listed, nobody counts.
  let group = '';
  const qualified = parts.map((p) => {
    const g = groupsAtLevel(p, ladderLevel(p, ctx.requestedAt, now)).find((name) => (ctx.groupMembers[name] ?? []).includes(who));
    if (g !== undefined && group === '') group = g;
    return g !== undefined;
  });
  if (!qualified.some(Boolean)) {
    const allowed = parts.flatMap((p) => groupsAtLevel(p, ladderLevel(p, ctx.requestedAt, now)));
    return { counts: false, rule: 'approval.not-member', message: `\`${who}\` is not in an approver group for this call: allowed now: ${list([...new Set(allowed)])}` };
  }
  if (vote.approve && ctx.votes.some((v) => v.approve && v.approver === who)) {
    return { counts: false, rule: 'approval.duplicate', message: `\`${who}\` already approved this call: distinct approvers are needed` };
  }
  if (!vote.approve && !(vote.reason ?? '').trim()) return { counts: false, rule: 'approval.reason-required', message: 'a reason is required to deny' };
  return { counts: true, vote: { approver: who, approve: vote.approve, parts: qualified }, group };
}

export type VoteTally = 'approved' | 'denied' | 'pending';

/** One counted deny denies; every part with enough distinct qualified approvers approves. */
export function tallyVotes(req: ApprovalRequirement, votes: readonly CountedVote[]): VoteTally {
  if (votes.some((v) => !v.approve)) return 'denied';
  const parts = approvalParts(req);
  const satisfied = parts.every((p, i) => new Set(votes.filter((v) => v.approve && v.parts[i]).map((v) => v.approver)).size >= p.approversRequired);
  return satisfied ? 'approved' : 'pending';
}

/**
 * Who a verified vote speaks for: an approver key's principal, or — for the approvals service's
 * key — the approver the keyset maps the Slack user id and team id to. Never a display name.
 */
export function resolveVoter(keyset: Keyset, key: KeyEntry, vote: VoteDecision): { readonly ok: true; readonly approver: string } | { readonly ok: false; readonly rule: 'approval.identity'; readonly message: string } {
  if (key.role === 'approver') {
    if (vote.onBehalfOf) return { ok: false, rule: 'approval.identity', message: `an approver key may not vote on behalf of someone else` };
    return { ok: true, approver: key.principal };
  }
  if (key.role === 'approvals-service') {
    if (!vote.onBehalfOf) return { ok: false, rule: 'approval.identity', message: 'the approvals service must name the Slack user it votes for' };
    const { slackUserId, slackTeamId } = vote.onBehalfOf;
    const person = keyset.slackUsers.find((u) => u.userId === slackUserId && u.teamId === slackTeamId);
    if (!person) return { ok: false, rule: 'approval.identity', message: `Slack user \`${slackUserId}\` of team \`${slackTeamId}\` is not a registered approver` };
    return { ok: true, approver: person.approver };
  }
  return { ok: false, rule: 'approval.identity', message: `a key of role \`${key.role}\` may not vote` };
}
