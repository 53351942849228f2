/**
 * Proposing through the public client, and the part of a proposal a person plays: when a call is
 * held for approval, the demo waits for the request to land where approvers see it (the
 * approvals table the CLI lists), shows it, and decides it through the approver's path.
 */
import type { Gatehouse } from '../client';
import type { ApprovalRecord } from '../approvals/types';
import type { ProposeResult, SessionProposal } from '../workflows/contract';
import type { Decision } from '../policies/types';
import type { DemoContext } from './types';
import { waitFor } from './wait';

export type SessionHandle = Awaited<ReturnType<Gatehouse['startSession']>>;

/** Thrown when a call the scenario expects to be held for approval was decided at once. */
export class NotHeldError extends Error {
  readonly type = 'NotHeldError';
}

/** What a tier means, as a person would say it. */
const TIER_WORDS: Readonly<Record<string, string>> = {
  autonomous: 'a call that runs on its own',
  approval: 'a call that needs a person',
  blocked: 'a call that is always blocked',
};

/** What happened, as a person would say it: the outcome first, then the kind of call, then why. */
function outcome(r: ProposeResult): string {
  const byPerson = r.approvalId !== undefined;
  switch (r.status) {
    case 'executed':
      return byPerson ? 'RAN after a person approved it' : 'RAN';
    case 'denied':
      return byPerson ? 'DENIED after it was put to a person' : 'DENIED at once';
    case 'expired':
      return 'DENIED: nobody decided before the deadline';
    default:
      return 'FAILED while running';
  }
}

/** One line for a decision: the outcome, the tier in words, and the reasons with their rule ids. */
export function describeDecision(r: ProposeResult): string {
  const reasons = r.decision.reasons.map((x) => `${x.rule}: ${x.message}`).join('; ');
  const extra = r.error ? ` (${r.error.type}: ${r.error.message})` : '';
  const tier = TIER_WORDS[r.decision.tier] ?? `tier ${r.decision.tier}`;
  return `${outcome(r)} (${tier})${extra}${reasons ? ` because ${reasons}` : ''}`;
}

export interface HeldProposal {
  readonly approvalId: string;
  /** What the approver sees: tool, redacted args, blast radius, reasons, deadline, groups. */
  readonly request: ApprovalRecord;
  readonly decision: Decision;
  /** The human decides (through the CLI's path), then the agent's call returns. */
  decide(approve: boolean, reason: string): Promise<ProposeResult>;
  /** Nobody decides here; the agent's call returns whenever the session resolves it. */
  readonly result: Promise<ProposeResult>;
}

/** Thrown when the demo's script no longer fits the data: a call it expects decided at once is held. */
export class DemoScriptError extends Error {
  readonly type = 'DemoScriptError';
}

/** How long a call the script expects to be decided at once may run before the demo gives up. */
const DECIDED_WITHIN_MS = 600_000;

/**
 * Proposes a call the script expects to be decided without a human (run, denied or failed). If
 * it is held for approval instead, the demo says so at once and stops, rather than wait silently
 * until the deadline denies it.
 */
export async function proposeDecided(ctx: DemoContext, session: SessionHandle, proposal: SessionProposal): Promise<ProposeResult> {
  const result = session.propose(proposal);
  let settled = false;
  const outcome = result.then((r) => ({ settled: r }), (err: unknown) => ({ failed: err }));
  void outcome.then(() => (settled = true));
  // `null` ends the watch once the call was decided; a record means the call is held.
  const held = waitFor(`a decision on \`${proposal.tool}\``, async () => (settled ? null : await ctx.approver.pendingOf(session.sessionId)), DECIDED_WITHIN_MS, 150);
  const first = await Promise.race([outcome, held.then((record) => ({ record }))]);
  if ('failed' in first) throw first.failed;
  if ('settled' in first) return first.settled;
  if (first.record === null) return result;
  const { approvalId, deadline } = first.record;
  ctx.story.gatehouse(`waiting for approval ${approvalId} (deadline ${deadline})`, first.record.decision);
  throw new DemoScriptError(
    `expected \`${proposal.tool}\` to be decided at once, but it waits for approval \`${approvalId}\`: the sample data no longer fits this demo; run \`gatehouse demo reset\` and try again`,
  );
}

/**
 * Proposes a call expected to wait for a human, and returns once the approval request is
 * pending. Fails with {@link NotHeldError} when the call was decided without one.
 */
export async function proposeAwaitingApproval(ctx: DemoContext, session: SessionHandle, proposal: SessionProposal): Promise<HeldProposal> {
  const result = session.propose(proposal);
  // A held call never resolves before a decision; a rejection is reported by the caller's await.
  result.catch(() => undefined);
  const settled = result.then((r) => ({ settled: r }), (err: unknown) => ({ failed: err }));
  const request = await Promise.race([ctx.approver.waitForPending(session.sessionId), settled]);
  if ('failed' in request) throw request.failed;
  if ('settled' in request) {
    throw new NotHeldError(`expected \`${proposal.tool}\` to wait for approval: it was ${request.settled.status}: ${describeDecision(request.settled)}`);
  }
  const record = request;
  ctx.story.gatehouse(`waiting for approval ${record.approvalId} (deadline ${record.deadline}): ${record.decision.reasons.map((r) => r.rule).join(', ')}`, record.decision);
  ctx.story.say(`approval request: ${record.tool} ${JSON.stringify(record.redactedArgs)}`);
  if (record.blastRadius !== undefined) ctx.story.say(`blast radius: ${record.blastRadius.toLocaleString('en-US')} rows`);
  ctx.story.say(`approver groups: ${record.requirement.groups.join(' -> ')}; ${record.requirement.approversRequired} approver(s); deadline ${record.deadline}`);
  return {
    approvalId: record.approvalId,
    request: record,
    decision: record.decision,
    result,
    async decide(approve, reason) {
      await ctx.approver.decide(record, approve, reason);
      return result;
    },
  };
}
