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

export type SessionHandle = Awaited<ReturnType<Gatehouse['startSession']>>;

/** Thrown when a call the scenario expects to be held for approval was decided at once. */
export class NotHeldError extends Error {
  readonly type = 'NotHeldError';
}

/** One line for a decision: verdict, status and the reasons with their rule ids. */
export function describeDecision(r: ProposeResult): string {
  const reasons = r.decision.reasons.map((x) => `${x.rule}: ${x.message}`).join('; ');
  const extra = r.error ? ` (${r.error.type}: ${r.error.message})` : '';
  return `${r.decision.verdict.toUpperCase()} (tier ${r.decision.tier}) -> ${r.status}${extra}${reasons ? ` because ${reasons}` : ''}`;
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
  ctx.story.gatehouse(`held for approval ${record.approvalId}: ${record.decision.reasons.map((r) => r.rule).join(', ')}`, record.decision);
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
