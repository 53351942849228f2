/**
 * Who decided, proved: the signed votes a session's trail carries, checked again against the
 * keyset. Every `approved` / `denied` event that carries a vote envelope (`detail.envelope`) must
 * verify (`checkSignedDecision`, at the event's own time), bind this session, its approval and the
 * digest of the call the `approval-requested` event recorded, speak for the approver the event
 * names, and count under the one vote rule. Every `executed` event of an approval-tier call needs
 * such votes that grant the approval: approval-tier by the session's recorded policy (`facts.policy`,
 * whatever the trail says), or by an `approval-requested` event for its proposal. A call the policy
 * blocks never runs, approved or not; a request must ask at least what the policy requires.
 *
 * Pure: the same trail and keyset always give the same findings.
 */
import { checkSignedDecision, resolveVoter, type Keyset } from '../policies/trust';
import { approvalParts, checkVote, ownerAliases, tallyVotes, type CountedVote } from '../policies/trust/votes';
import { approvalGroupMembers, enforcedTier } from '../policies/gate';
import type { CompiledPolicy } from '../policies/compile';
import { canonicalJson } from '../policies/hash';
import type { RuleId } from '../policies/rules';
import type { ApprovalRequirement } from '../policies/types';
import type { AuditEventInput } from './types';

/** A vote (or a missing one) that does not hold up; the session and seq name where. */
export interface VoteFinding {
  readonly sessionId: string;
  readonly seq: number;
  /** A refusal rule of `policies/trust` (`envelope.*`, `decision.*`, `approval.*`) or a `vote.*` rule (`policies/rules.ts`). */
  readonly rule: RuleId;
  readonly message: string;
}

/** What the session row says, used where the trail itself does not (older trails). */
export interface SessionFacts {
  readonly workflowId?: string;
  readonly firstRunId?: string;
  readonly agentId?: string;
  readonly owner?: string;
  /** The session's recorded policy, compiled: each executed call's tier comes from it. */
  readonly policy?: CompiledPolicy;
}

interface Requested {
  readonly approvalId: string;
  readonly requestedAt: number;
  readonly requirement?: ApprovalRequirement;
  readonly groupMembers: Readonly<Record<string, readonly string[]>>;
  readonly callDigest?: string;
  readonly workflowId?: string;
  readonly firstRunId?: string;
  readonly votes: CountedVote[];
}

function record(value: unknown): Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The findings of one session's events (in seq order); empty when every vote holds. */
export function checkVoteEvidence(sessionId: string, events: readonly AuditEventInput[], keyset: Keyset | undefined, facts: SessionFacts = {}): VoteFinding[] {
  const findings: VoteFinding[] = [];
  const find = (seq: number, rule: RuleId, message: string): void => {
    findings.push({ sessionId, seq, rule, message });
  };
  const started = record(events.find((e) => e.kind === 'session-started')?.detail);
  const agentId = text(started.agentId) ?? facts.agentId ?? '';
  const owner = text(started.owner) ?? facts.owner ?? '';
  const sessionRun = text(started.firstRunId) ?? facts.firstRunId;
  const approvals = new Map<string, Requested>();
  const byProposal = new Map<number, Requested>();
  const usedNonces = new Set<string>();

  for (const e of events) {
    const detail = record(e.detail);
    if (e.kind === 'approval-requested' && e.approvalId !== undefined) {
      const requirement = detail.requirement as ApprovalRequirement | undefined;
      const callDigest = text(detail.callDigest);
      const workflowId = text(detail.workflowId) ?? facts.workflowId;
      const firstRunId = text(detail.firstRunId) ?? sessionRun;
      const a: Requested = {
        approvalId: e.approvalId,
        requestedAt: Date.parse(e.at),
        ...(requirement && Array.isArray(requirement.groups) ? { requirement } : {}),
        groupMembers: record(detail.groupMembers) as Record<string, readonly string[]>,
        ...(callDigest ? { callDigest } : {}),
        ...(workflowId ? { workflowId } : {}),
        ...(firstRunId ? { firstRunId } : {}),
        votes: [],
      };
      approvals.set(a.approvalId, a);
      if (e.proposalSeq !== undefined) byProposal.set(e.proposalSeq, a);
      continue;
    }
    if ((e.kind === 'approved' || e.kind === 'denied') && e.approvalId !== undefined) {
      const envelope = detail.envelope;
      if (envelope === undefined) {
        // A deny without a vote (a halt cancelled the wait) loosens nothing; an approval always needs one.
        if (e.kind === 'approved') find(e.seq, 'vote.unsigned', `the approval of \`${e.approvalId}\` carries no signed vote`);
        continue;
      }
      const a = approvals.get(e.approvalId);
      if (!a) {
        find(e.seq, 'vote.unknown-approval', `a vote on approval \`${e.approvalId}\`, which this session never requested`);
        continue;
      }
      if (!keyset) {
        find(e.seq, 'vote.no-keyset', 'the signed vote cannot be checked without the keyset: pass `--keys` or set `GATEHOUSE_KEYS`');
        continue;
      }
      if (!a.workflowId || !a.firstRunId || !a.callDigest || !a.requirement) {
        find(e.seq, 'vote.request-unbound', `approval \`${a.approvalId}\` was requested without the session, run and call digest a vote binds`);
        continue;
      }
      const at = Date.parse(e.at);
      const check = checkSignedDecision(envelope, keyset, { kind: 'vote', workflowId: a.workflowId, firstRunId: a.firstRunId, usedNonces }, at);
      if (!check.ok) {
        find(e.seq, check.rule, `the signed vote does not verify: ${check.message}`);
        continue;
      }
      const d = check.decision;
      usedNonces.add(d.nonce);
      if (d.approvalId !== a.approvalId) {
        find(e.seq, 'vote.approval-id', `the vote was signed for approval \`${d.approvalId}\`, recorded for \`${a.approvalId}\``);
        continue;
      }
      if (d.callDigest !== a.callDigest) {
        find(e.seq, 'vote.digest', `the vote was signed over call digest \`${d.callDigest.slice(0, 12)}\`, not the requested call's \`${a.callDigest.slice(0, 12)}\``);
        continue;
      }
      if ((d.verdict === 'approve') !== (e.kind === 'approved')) {
        find(e.seq, 'vote.verdict', `the vote was signed as \`${d.verdict}\` but recorded as \`${e.kind}\``);
        continue;
      }
      const voter = resolveVoter(keyset, check.key, d);
      if (!voter.ok) {
        find(e.seq, voter.rule, voter.message);
        continue;
      }
      if (e.approver !== voter.approver) {
        find(e.seq, 'vote.approver', `the vote is recorded as \`${e.approver ?? 'nobody'}\`'s but was signed for \`${voter.approver}\``);
        continue;
      }
      const counted = checkVote(
        // The owner under every name it goes by: a vote the workflow counted before four-eyes-by-identity is found here.
        { agentId, owner, requirement: a.requirement, groupMembers: a.groupMembers, requestedAt: a.requestedAt, votes: a.votes, ...(keyset ? { ownerAliases: ownerAliases(keyset, owner) } : {}) },
        { approver: voter.approver, approve: d.verdict === 'approve', ...(d.reason !== undefined ? { reason: d.reason } : {}) },
        at,
      );
      if (!counted.counts) {
        find(e.seq, counted.rule, `the vote does not count: ${counted.message}`);
        continue;
      }
      a.votes.push(counted.vote);
      continue;
    }
    if (e.kind === 'executed') {
      const tool = e.tool ?? 'a call';
      const a = e.proposalSeq !== undefined ? byProposal.get(e.proposalSeq) : undefined;
      const policy = facts.policy;
      const tier = policy && e.tool !== undefined ? enforcedTier(policy, e.tool) : undefined;
      if (tier === 'blocked') {
        find(e.seq, 'trail.blocked', `\`${tool}\` ran although policy \`${policy!.document.name}\` blocks it: no approval can unlock it`);
      } else if (tier === 'approval' && !a) {
        find(e.seq, 'vote.missing', `\`${tool}\` ran without a signed approval: policy \`${policy!.document.name}\` puts it in the approval tier and the trail holds no approval request for it`);
      } else if (a && (!a.requirement || tallyVotes(a.requirement, a.votes) !== 'approved')) {
        find(e.seq, 'vote.missing', `\`${tool}\` ran without a valid signed approval of \`${a.approvalId}\` over its digest`);
      } else if (a && tier !== undefined && weaker(policy!, e.tool!, a)) {
        find(e.seq, 'trail.requirement', `approval \`${a.approvalId}\` of \`${tool}\` asked fewer approvers or other group members than policy \`${policy!.document.name}\` requires`);
      }
    }
  }
  return findings;
}

/**
 * The recorded request asks less than the policy: fewer approvers than the tool's approval (or, for
 * an unlock of a tool that needs no approval of its own, than its unlock), or groups with other members.
 */
function weaker(policy: CompiledPolicy, tool: string, a: Requested): boolean {
  const t = policy.tools.get(tool);
  if (!t) return false;
  const own = enforcedTier(policy, tool) === 'approval' || !a.requirement!.unlocksTransition ? t.approval : t.unlock;
  const required = own.approversRequired;
  const parts = approvalParts(a.requirement!);
  const asked = Math.max(0, ...parts.map((p) => p.approversRequired));
  const groups = parts.flatMap((p) => p.groups);
  return asked < Math.max(1, required) || canonicalJson(approvalGroupMembers(policy, groups)) !== canonicalJson(a.groupMembers);
}
