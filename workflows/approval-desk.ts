/**
 * The session's human approvals: asking (request, escalation ladder, automatic denial at the
 * deadline — never an automatic approval), and counting signed votes. Whether a signed decision is
 * genuine and whether a vote counts are decided in `policies/trust`; this file waits and records.
 */
import { ActivityFailure, CancellationScope, condition, currentUpdateInfo, isCancellation } from '@temporalio/workflow';
import type { ApprovalEscalation, ApprovalRequest } from '../approvals/types';
import { approvalGroupMembers } from '../policies';
import { approvalParts, approvalTimeoutMs, checkSignedDecision, checkVote, ownerAliases, resolveVoter, type DecisionKind, type KeyEntry, type SignedDecision } from '../policies/trust';
import type { RuleId } from '../policies/rules';
import type { ApprovalRequirement, Decision, Proposal } from '../policies/types';
import { io } from './activities';
import { ApprovalWait, type ApprovalOutcome } from './approval-wait';
import { iso, nowMs } from './clock';
import type { ApprovalSignal, PendingApprovalView, VoteAnswer } from './contract';
import type { SessionCore } from './session-core';
import { ESCALATION_BEST_EFFORT, hasPatch, LADDER_OF_EVERY_PART, SLACK_BESIDE_WAIT, takenAtStart } from './patches';

/** What an approval is asked about. */
export interface ApprovalAsk {
  readonly proposalSeq: number;
  readonly proposal: Proposal;
  readonly redactedArgs: Readonly<Record<string, unknown>>;
  readonly blastRadius: number | undefined;
  readonly decision: Decision;
  readonly requirement: ApprovalRequirement;
  readonly digest: string;
  /** Digest of the session state `digest` saw: approval surfaces recompute the digest with it. */
  readonly stateHash: string;
}

/**
 * Patch id: a signed vote must name the tool of the approval it decides (the digest alone is not
 * what a person reads). Votes recorded before the patch named no tool and replay as they counted.
 */
const VOTE_NAMES_TOOL = 'vote-names-tool';

/** A signed decision that checked out, with who signed it. */
type VerifiedDecision<K extends DecisionKind> = Extract<SignedDecision, { kind: K }> & { readonly signer: string; readonly signerKey: KeyEntry };

export class ApprovalDesk {
  readonly #core: SessionCore;
  #pending = new Map<string, ApprovalWait>();
  /** Patch `escalation-best-effort`: a failed escalation is an alert, and the wait goes on. */
  readonly #escalationBestEffort: boolean;
  /** Patch `ladder-of-every-part`: an approval escalates at the steps of each of its parts. */
  readonly #ladderOfEveryPart: boolean;
  /** Patch `slack-beside-wait`: a Slack post never holds up the votes or the deadline. */
  readonly #slackBesideWait: boolean;

  /** Built right after the session core, at the first line of the run: its patches are taken there (patches.ts). */
  constructor(core: SessionCore) {
    this.#core = core;
    this.#escalationBestEffort = takenAtStart(ESCALATION_BEST_EFFORT);
    this.#ladderOfEveryPart = takenAtStart(LADDER_OF_EVERY_PART);
    this.#slackBesideWait = takenAtStart(SLACK_BESIDE_WAIT);
  }

  /** Approvals still waiting, for the state view. */
  pendingViews(): PendingApprovalView[] {
    return [...this.#pending.values()].filter((w) => !w.outcome).map((w) => w.view());
  }

  /** Posts the request, then waits for votes, escalating on schedule; the deadline denies. */
  async awaitApproval(ask: ApprovalAsk): Promise<ApprovalOutcome> {
    const core = this.#core;
    const { proposalSeq, proposal, requirement, digest } = ask;
    const approvalId = `${core.sessionId}:${proposalSeq}`;
    const requestedAt = nowMs();
    const req: ApprovalRequest = {
      approvalId,
      sessionId: core.sessionId,
      workflowId: core.workflowId,
      firstRunId: core.firstRunId,
      agentId: core.agentId,
      owner: core.owner,
      intent: core.input.intent,
      proposal,
      redactedArgs: ask.redactedArgs,
      ...(ask.blastRadius !== undefined ? { blastRadius: ask.blastRadius } : {}),
      decision: ask.decision,
      requirement,
      callDigest: digest,
      requestedAt: iso(requestedAt),
      deadline: iso(requestedAt + approvalTimeoutMs(requirement)),
      groupMembers: approvalGroupMembers(core.policy, approvalParts(requirement).flatMap((p) => p.groups)),
    };
    const wait = new ApprovalWait(req, { requestedAt, proposalSeq, proposalId: currentUpdateInfo()?.id, stateHash: ask.stateHash, ladderOfEveryPart: this.#ladderOfEveryPart });
    this.#pending.set(approvalId, wait);
    let conflict: readonly string[] | undefined;
    let requested = false;
    // Slack posts sent beside the wait: only their activities run in this scope (what they record
    // runs outside it), so ending the wait cancels what is still being retried and nothing else.
    const posting = this.#slackBesideWait ? new CancellationScope() : undefined;
    const posts: Promise<void>[] = [];
    // From here (approval-holds-pause-and-deadline) a failure — the request could not be recorded or
    // sent — still ends the wait: no approval is left pending, taking votes, for a call that never runs.
    try {
      await core.audit.record([
        core.audit.event('approval-requested', {
          proposalSeq,
          tool: proposal.tool,
          approvalId,
          detail: { requirement, deadline: req.deadline, callDigest: digest, workflowId: core.workflowId, firstRunId: core.firstRunId, groupMembers: req.groupMembers },
        }),
      ]);
      if (posting) {
        // The row first: the CLI and the console decide on it, whether or not Slack answers.
        conflict = (await io.storeApproval(req)).conflict;
        requested = true;
        if (!conflict) posts.push(this.#postBeside(posting, () => io.requestApproval(req), wait, { rule: 'approval.not-posted', what: `while posting approval \`${approvalId}\``, proposalSeq }));
      } else {
        const asked = await io.requestApproval(req);
        requested = true;
        conflict = asked?.conflict;
      }
      // Another row already holds this approval's id (planted before the request): nobody is asked
      // to approve what that row shows; the call is denied and a human is told.
      if (conflict) {
        const message = `approval \`${approvalId}\` was already stored with other content (${conflict.join(', ')}): nothing was asked, the call is denied`;
        await core.audit.alert('approval.conflict', message, { fields: conflict }, { proposalSeq, tool: proposal.tool, approvalId });
        wait.refuse('approval.conflict', message);
      }
      // A recorded session (no conflict possible then) enters the loop exactly as before.
      for (;;) {
        if (conflict) break;
        const next = wait.nextDeadline();
        // At least 1 ms: a zero timeout would mean "no timer" in older SDKs (and a patch marker in this one).
        const waitMs = Math.max(1, next.at - nowMs());
        await condition(() => core.halted || wait.outcome !== undefined, waitMs);
        if (core.halted && wait.outcome === undefined) wait.cancel(core.haltedBy);
        if (wait.outcome) break;
        if (nowMs() < next.at) continue;
        if (next.kind === 'deadline') {
          // Never an automatic approval: the deadline denies.
          wait.expire();
          break;
        }
        const escalation = wait.escalate(iso(nowMs()));
        // An approval with two parts says where each part's ladder stands.
        const parts = this.#ladderOfEveryPart && requirement.alsoRequired ? { parts: wait.partLevels() } : {};
        await core.audit.record([core.audit.event('escalated', { proposalSeq, tool: proposal.tool, approvalId, detail: { level: escalation.level, group: escalation.group, ...parts } })]);
        if (posting) {
          const about = { rule: 'approval.escalation-failed', what: `while escalating approval \`${approvalId}\` to \`${escalation.group}\``, proposalSeq, detail: { level: escalation.level, group: escalation.group } } as const;
          posts.push(this.#postBeside(posting, () => io.escalateApproval(req, escalation), wait, about));
        }
        else if (this.#escalationBestEffort) await this.#escalateBestEffort(req, escalation, proposalSeq);
        else await io.escalateApproval(req, escalation);
      }
    } finally {
      if (posting && posts.length) {
        posting.cancel();
        await Promise.allSettled(posts);
      }
      if (requested || core.approvalHoldsPauseAndDeadline) {
        this.#pending.delete(approvalId);
        // Kept so a late click is recognised and recorded as such (carried to the next run too).
        core.decided.set(approvalId, { seq: proposalSeq, at: nowMs() });
      }
    }
    const outcome = wait.outcome!;
    const at = iso(nowMs());
    if (outcome.status === 'expired') {
      await core.audit.record([core.audit.event('expired', { proposalSeq, tool: proposal.tool, approvalId, detail: { deadline: req.deadline } })]);
    } else if (outcome.status === 'cancelled') {
      await core.audit.record([core.audit.event('denied', { proposalSeq, tool: proposal.tool, approvalId, detail: { cancelled: true, reason: 'session halted' } })]);
    } else if (conflict) {
      await core.audit.record([core.audit.event('denied', { proposalSeq, tool: proposal.tool, approvalId, detail: { conflict, reason: outcome.reason } })]);
      // The row under this id is not this session's: it is left as it was, for whoever investigates.
      return outcome;
    }
    await io.resolveApproval(req, {
      approvalId,
      status: outcome.status,
      decidedBy: outcome.status === 'denied' ? outcome.deniedBy : outcome.approvers,
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      at,
    });
    return outcome;
  }

  /**
   * Tells the next group (`escalateApproval`). Best effort: the ladder widened whether or not the
   * post went out, so a failure for good (Slack down past the retries, an archived channel) is an
   * alert, and the wait goes on to its votes and its deadline, to be recorded and resolved.
   */
  async #escalateBestEffort(req: ApprovalRequest, escalation: ApprovalEscalation, proposalSeq: number): Promise<void> {
    try {
      await io.escalateApproval(req, escalation);
    } catch (err) {
      if (isCancellation(err)) throw err;
      const message = `while escalating approval \`${req.approvalId}\` to \`${escalation.group}\`: ${failureText(err)}: the approval waits on for votes and its deadline`;
      await this.#core.audit.alert('approval.escalation-failed', message, { level: escalation.level, group: escalation.group }, { proposalSeq, tool: req.proposal.tool, approvalId: req.approvalId });
    }
  }

  /**
   * Sends a Slack post (the request, an escalation) without holding up the wait: votes are counted
   * and the deadline denies while Slack is retried. The wait's end cancels it. A failure for good is
   * an alert; so is a post still being retried at the deadline: those people may never have been told.
   * Never rejects: the wait collects these promises only when it ends.
   */
  #postBeside(scope: CancellationScope, send: () => Promise<unknown>, wait: ApprovalWait, about: { rule: 'approval.not-posted' | 'approval.escalation-failed'; what: string; proposalSeq: number; detail?: Record<string, unknown> }): Promise<void> {
    return scope.run(send).then(
      () => undefined,
      async (err: unknown) => {
        // The session's own cancellation reaches the wait itself; a post cancelled because someone
        // decided first missed nobody; one cancelled by the deadline may have.
        if (isCancellation(err) && wait.outcome?.status !== 'expired') return;
        const why = isCancellation(err) ? 'not delivered before the approval expired: they may never have been told' : `${failureText(err)}: the approval waits on for votes and its deadline`;
        await this.#core.audit.alert(about.rule, `${about.what}: ${why}`, about.detail ?? {}, { proposalSeq: about.proposalSeq, tool: wait.req.proposal.tool, approvalId: wait.req.approvalId });
      },
    ).catch(() => undefined); // an audit write that failed for good ends the session on its own (audit-writer.ts)
  }

  /**
   * Verifies a signed decision against the keyset snapshotted at start, for this session, at
   * workflow time. A refusal is recorded as an alert and changes nothing else; an accepted one
   * uses up its nonce, so the same envelope never counts twice. `refused` hears why not (a vote's sender is told).
   */
  async verified<K extends DecisionKind>(kind: K, envelope: unknown, refused?: (rule: RuleId, message: string) => void): Promise<VerifiedDecision<K> | undefined> {
    const core = this.#core;
    await core.afterStart();
    const check = checkSignedDecision(envelope, core.keyset, { kind, workflowId: core.workflowId, firstRunId: core.firstRunId, usedNonces: core.usedNonces }, nowMs());
    if (!check.ok) {
      refused?.(check.rule, check.message);
      await core.audit.alert(check.rule, check.message, { kind, ...(check.keyId ? { keyId: check.keyId.slice(0, 100) } : {}) });
      return undefined;
    }
    core.usedNonces.add(check.decision.nonce);
    core.nonceExpiries.set(check.decision.nonce, Date.parse(check.decision.expiresAt));
    return { ...check.decision, signer: check.key.principal, signerKey: check.key };
  }

  /**
   * A signed vote (`approval` signal, `vote` update), counted only if the one vote rule says so.
   * Answers what the update's sender is told: counted, or the rule of the alert that refused it.
   */
  async onApproval(envelope: ApprovalSignal): Promise<VoteAnswer> {
    const core = this.#core;
    // (Told through a callback: `verified` keeps the awaits recorded sessions replay.)
    let refusal: VoteAnswer | undefined;
    const vote = await this.verified('vote', envelope, (rule, message) => (refusal = { counted: false, rule, message }));
    // `verified` tells `refused` before every undefined it returns.
    if (!vote) return refusal!;
    const approvalId = vote.approvalId;
    const refuse = async (rule: RuleId, message: string, approver?: string): Promise<VoteAnswer> => {
      await core.audit.alert(rule, message, { keyId: vote.keyId, signer: vote.signer, approve: vote.verdict === 'approve' }, { approvalId, ...(approver ? { approver } : {}) });
      return { counted: false, rule, message };
    };
    // The verified key: the keyset's, or a passkey's from the grant its envelope carries.
    const voter = resolveVoter(core.keyset, vote.signerKey, vote);
    if (!voter.ok) return refuse(voter.rule, voter.message);
    const approver = voter.approver;
    const wait = this.#pending.get(approvalId);
    if (!wait || wait.outcome) {
      const decided = core.decided.has(approvalId) || wait?.outcome !== undefined;
      return refuse(decided ? 'approval.decided' : 'approval.unknown', decided ? `approval \`${approvalId}\` was already decided` : `no pending approval \`${approvalId}\` in this session`, approver);
    }
    // The deadline denies whatever arrives at or after it, even a vote handled in the task its timer fires in.
    if (core.approvalHoldsPauseAndDeadline && nowMs() >= wait.requestedAt + approvalTimeoutMs(wait.req.requirement)) {
      wait.expire();
      return refuse('approval.expired', `approval \`${approvalId}\` passed its deadline before the vote was handled: the call is denied`, approver);
    }
    if (vote.callDigest !== wait.req.callDigest) return refuse('approval.digest', `the vote was signed for another call than approval \`${approvalId}\` asks about`, approver);
    // The digest binds the tool too, but a person reads the name: the signed payload must carry the one asked about.
    if (vote.tool !== wait.req.proposal.tool && hasPatch(this.#core, VOTE_NAMES_TOOL)) {
      const named = vote.tool === undefined ? 'names no tool' : `names tool \`${vote.tool}\``;
      return refuse('approval.tool', `the vote ${named}, but approval \`${approvalId}\` asks about \`${wait.req.proposal.tool}\``, approver);
    }
    const context = core.fourEyesByIdentity ? { ...wait.voteContext(), ownerAliases: ownerAliases(core.keyset, wait.req.owner) } : wait.voteContext();
    const check = checkVote(context, { approver, approve: vote.verdict === 'approve', ...(vote.reason !== undefined ? { reason: vote.reason } : {}) }, nowMs());
    if (!check.counts) return refuse(check.rule, check.message, approver);
    wait.count(check.vote, vote.reason);
    // `count` may have settled the outcome (TypeScript still narrows it to the undefined checked above).
    const settled = (wait.outcome as ApprovalOutcome | undefined)?.status;
    const answer: VoteAnswer = { counted: true, approver, group: check.group, status: settled === 'approved' || settled === 'denied' ? settled : 'pending' };
    await core.audit.record([
      core.audit.event(vote.verdict === 'approve' ? 'approved' : 'denied', {
        proposalSeq: wait.proposalSeq,
        tool: wait.req.proposal.tool,
        approvalId,
        approver,
        detail: {
          ...(vote.reason ? { reason: vote.reason } : {}),
          group: check.group,
          approvers: wait.approvers(),
          required: wait.req.requirement.approversRequired,
          keyId: vote.keyId,
          signer: vote.signer,
          ...(vote.onBehalfOf ? { onBehalfOf: vote.onBehalfOf } : {}),
          envelope,
        },
      }),
    ]);
    return answer;
  }
}

/** What went wrong, in one line: an activity's own failure rather than the "activity failed" around it. */
function failureText(err: unknown): string {
  const cause = err instanceof ActivityFailure ? (err.cause ?? err) : err;
  return cause instanceof Error ? cause.message : String(cause);
}
