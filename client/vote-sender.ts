/**
 * Delivers a signed vote to its session and returns the session's own answer (the `vote`
 * update): counted, or refused under the rule its alert names. The Slack app, the CLI and the
 * console report that answer, so none of them shows a vote as counted that the workflow refused
 * (after the operator changed the keyset, or in a race with a deadline or a halt).
 *
 * No answer (undefined) in two cases, where the vote still reaches the session and is counted or
 * refused there: a worker from before the update ("no handler", the vote then goes as the
 * `approval` signal), and a session that did not answer in time (its worker is down: the update
 * waits with the server).
 */
import { WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { approvalSignal, voteUpdate, type ApprovalSignal, type VoteAnswer } from '../workflows/contract';

/** Sends a signed vote to a session workflow: its answer, or undefined when it gave none in time. */
export type VoteSender = (workflowId: string, envelope: ApprovalSignal) => Promise<VoteAnswer | undefined>;

/** Thrown by a sender when the session workflow no longer runs. */
export class SessionGoneError extends Error {
  readonly type = 'SessionGoneError';
  constructor(readonly workflowId: string, options?: { readonly cause?: unknown }) {
    super(`session workflow \`${workflowId}\` is not running`, options);
    this.name = 'SessionGoneError';
  }
}

/** How long a person's click waits for the session's answer before it is reported as sent. */
export const VOTE_ANSWER_WITHIN_MS = 15_000;

/** The workflow's rejection of an update it has no handler for (a worker from before `vote`). */
function noVoteHandler(err: unknown): boolean {
  return err instanceof WorkflowUpdateFailedError && /^No registered handler for update: /.test(err.cause?.message ?? '');
}

/** A sender over a Temporal client: the `vote` update, or the `approval` signal on older workers. */
export function temporalVoteSender(client: Client, opts: { readonly answerWithinMs?: number } = {}): VoteSender {
  const within = opts.answerWithinMs ?? VOTE_ANSWER_WITHIN_MS;
  return async (workflowId, envelope) => {
    const handle = client.workflow.getHandle(workflowId);
    try {
      return await client.withAbortSignal(AbortSignal.timeout(within), () => handle.executeUpdate(voteUpdate, { args: [envelope] }));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new SessionGoneError(workflowId, { cause: err });
      if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return undefined;
      if (!noVoteHandler(err)) throw err;
    }
    try {
      await handle.signal(approvalSignal, envelope);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new SessionGoneError(workflowId, { cause: err });
      throw err;
    }
    return undefined;
  };
}
