/**
 * The decisions a session makes around `evaluate`, as pure functions: everything in, one
 * `Decision` out. The workflow only orchestrates (records, waits, runs); whether a call may go
 * ahead — before its arguments are checked, after they failed, when it asks for an unlock, and
 * once more after humans approved it — is decided here, so a replay re-derives every verdict.
 */
import type { CompiledPolicy } from './compile';
import { evaluate } from './evaluate';
import { canonicalJson, sha256Hex } from './hash';
import type { LedgerResult } from './ledger';
import type { RuleId } from './rules';
import type { SessionState } from './state';
import type { ApprovalRequirement, Decision, Proposal, ProposalFacts, Reason, Tier } from './types';

/** A deny naming one rule. `tier` is the tool's when the tool is known, else `blocked`. */
export function refusal(policyHash: string, rule: RuleId, message: string, tier: Tier = 'blocked'): Decision {
  return { verdict: 'deny', tier, reasons: [{ rule, message }], policyHash };
}

/** The tier a tool sits in (unknown tools: `blocked`), without evaluating a call. */
export function toolTier(policy: CompiledPolicy, tool: string): Tier {
  return policy.tools.get(tool)?.tier ?? 'blocked';
}

/**
 * The tier a tool's calls are held to whatever the session's state, as `evaluate` enforces it:
 * an unknown tool and an always-blocked one are `blocked` in every mode; a shadow policy records
 * its tier table without enforcing it (`autonomous` then). What `audit verify` re-derives from a
 * session's recorded policy.
 */
export function enforcedTier(policy: CompiledPolicy, tool: string): Tier {
  const t = policy.tools.get(tool);
  if (!t) return 'blocked';
  if (t.alwaysBlocked.some((b) => !b.shadow)) return 'blocked';
  return t.tierShadow ? 'autonomous' : t.tier;
}

/**
 * Before the arguments are even checked: a halted session refuses everything, and a tool the
 * policy does not know (not in the catalog, or an upstream tool the policy leaves unclassified) is
 * the engine's own `tool.unknown`. `undefined`: go on to the argument check.
 */
export function admitProposal(policy: CompiledPolicy, state: SessionState, proposal: Proposal, session: { readonly halted: boolean; readonly sessionId: string }, now: number): Decision | undefined {
  if (session.halted) return refusal(policy.hash, 'session.halted', `session \`${session.sessionId}\` was halted`);
  if (!policy.tools.has(proposal.tool)) return evaluate(policy, state, proposal, {}, now);
  return undefined;
}

/** Arguments the tool's schema rejected: denied in the tool's own tier, naming the first problem. */
export function invalidArguments(policy: CompiledPolicy, tool: string, firstIssue: { readonly path: string; readonly message: string } | undefined): Decision {
  const detail = firstIssue ? `${firstIssue.path || '(root)'}: ${firstIssue.message}` : 'rejected by the schema';
  return refusal(policy.hash, 'tool.args', `invalid arguments for tool \`${tool}\`: ${detail}`, toolTier(policy, tool));
}

/** A gated proposal: the decision, and the facts a later re-check must use (an unlock is one). */
export interface GateResult {
  readonly decision: Decision;
  readonly facts: ProposalFacts;
}

/**
 * `evaluate`, plus the out-of-band unlock: a call denied only by forbidden transitions carries
 * `decision.unlock`; when the agent asks (`requestUnlock`), it becomes an approval request that
 * unlocks exactly this call. The call's own gate still applies once unlocked: its approvers must
 * agree as well as the unlock group, and its own denials stand.
 */
export function gateProposal(policy: CompiledPolicy, state: SessionState, proposal: Proposal, facts: ProposalFacts, requestUnlock: boolean, now: number): GateResult {
  const decision = evaluate(policy, state, proposal, facts, now);
  if (decision.verdict !== 'deny' || !decision.unlock || !requestUnlock) return { decision, facts };
  const unlockedFacts: ProposalFacts = { ...facts, transitionUnlocked: true };
  const own = evaluate(policy, state, proposal, unlockedFacts, now);
  if (own.verdict === 'deny') return { decision: own, facts: unlockedFacts };
  const approval: ApprovalRequirement = { ...decision.unlock, unlocksTransition: true, ...(own.verdict === 'approve' && own.approval ? { alsoRequired: own.approval } : {}) };
  return {
    facts: unlockedFacts,
    decision: {
      ...decision,
      verdict: 'approve',
      tier: 'approval',
      reasons: [...decision.reasons, ...(own.verdict === 'approve' ? own.reasons : []), { rule: 'transition.unlock', message: 'the agent asked for an out-of-band unlock of this forbidden transition' }],
      approval,
    },
  };
}

/**
 * The digest that binds an approval to the exact call it was asked for: tool, canonical
 * arguments, the policy hash and the session state the decision saw. Any difference after the
 * approval means the approved call is not the call that would run.
 */
export function callDigest(tool: string, args: unknown, policyHash: string, stateSeen: unknown): string {
  return callDigestOver(tool, args, policyHash, stateDigest(stateSeen));
}

/** The digest of the session state a decision saw: the one part of `callDigest` an approver cannot see. */
export function stateDigest(stateSeen: unknown): string {
  return sha256Hex(canonicalJson(stateSeen));
}

/** `callDigest` from the state's digest: how an approval surface recomputes it from the tool and arguments it shows. */
export function callDigestOver(tool: string, args: unknown, policyHash: string, stateHash: string): string {
  return sha256Hex(canonicalJson({ tool, args, policyHash, state: stateHash }));
}

/** What humans approved, for the re-check just before the call runs. */
export interface Approved {
  readonly digest: string;
  readonly requirement: ApprovalRequirement;
  readonly approvers: number;
  /** The blast radius the approvers were shown; with it, `facts.blastRadius` is the estimate measured again. */
  readonly blastRadius?: number;
}

/**
 * An approved call runs only if it is still the call that was approved: not halted since, the
 * same digest (so the session did not move), a blast radius measured again no larger than the one
 * approved, and the policy still lets it through with no more approvers than it got. Returns
 * `allow` or the deny that stops it.
 */
export function recheckApproved(policy: CompiledPolicy, state: SessionState, proposal: Proposal, facts: ProposalFacts, approved: Approved, session: { readonly halted: boolean; readonly sessionId: string }, now: number): Decision {
  if (session.halted) return refusal(policy.hash, 'session.halted', `session \`${session.sessionId}\` was halted before the approved call ran`);
  if (callDigest(proposal.tool, proposal.args, policy.hash, state) !== approved.digest) {
    return refusal(policy.hash, 'approval.stale', 'the session changed after the approval was requested: the approved call no longer matches');
  }
  // Rows may have been added while humans decided: the call would now touch more than they approved.
  if (approved.blastRadius !== undefined && (facts.blastRadius === undefined || facts.blastRadius > approved.blastRadius)) {
    const cap = policy.tools.get(proposal.tool)?.blast?.denyAbove;
    const now = facts.blastRadius === undefined ? 'could not be measured again' : `is now ${facts.blastRadius}`;
    const over = cap !== undefined && facts.blastRadius !== undefined && facts.blastRadius > cap ? `, above the cap of ${cap}` : '';
    return refusal(policy.hash, 'blast-radius.grown', `the blast radius ${now}${over}; ${approved.blastRadius} was approved`, toolTier(policy, proposal.tool));
  }
  const again = evaluate(policy, state, proposal, facts, now);
  if (again.verdict === 'deny') return again;
  if (again.verdict === 'approve' && again.approval && again.approval.approversRequired > Math.max(approved.approvers, approved.requirement.approversRequired)) {
    return refusal(policy.hash, 'approval.insufficient', `the call now needs ${again.approval.approversRequired} approvers`);
  }
  return { ...again, verdict: 'allow' };
}

/** Members of each named approver group, from the session's policy snapshot (sent with a request). */
export function approvalGroupMembers(policy: CompiledPolicy, groups: readonly string[]): Record<string, readonly string[]> {
  const out: Record<string, readonly string[]> = {};
  for (const g of groups) out[g] = [...(policy.document.approvers.groups[g] ?? [])];
  return out;
}

/**
 * The ledgers' answers for a call the session's own gate let through: any deny → deny with the
 * ledgers' reasons (in the tool's tier); all allow → `undefined`, the call goes on. A ledger that
 * did not answer is `unavailable`: denied closed.
 */
/**
 * `decision` with what the ledgers' shadow rules would have denied added to its shadow finding
 * (the verdict it would have had with them enforced: deny); unchanged when none would have.
 */
export function withLedgerShadow<D extends Decision>(decision: D, answers: readonly LedgerResult[]): D {
  const reasons = answers.flatMap((a) => a.shadow ?? []);
  if (reasons.length === 0) return decision;
  return { ...decision, shadow: { verdict: 'deny', reasons: [...(decision.shadow?.reasons ?? []), ...reasons] } };
}

export function crossSessionDenial(policy: CompiledPolicy, tool: string, answers: readonly LedgerResult[], unavailable?: string): Decision | undefined {
  if (unavailable !== undefined) return refusal(policy.hash, 'ledger.unavailable', `the cross-session ledger did not answer: ${unavailable}`, toolTier(policy, tool));
  const reasons = answers.filter((a) => a.verdict === 'deny').flatMap((a) => a.reasons);
  return reasons.length === 0 ? undefined : deniedFor(policy, tool, reasons);
}

/** A deny for reasons found outside the session's own gate (its ledgers, its tree's root). */
export function deniedFor(policy: CompiledPolicy, tool: string, reasons: readonly Reason[]): Decision {
  return { verdict: 'deny', tier: toolTier(policy, tool), reasons, policyHash: policy.hash };
}
