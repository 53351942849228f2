/**
 * Delivers a signed vote to its session and returns the session's own answer (the `vote`
 * update): counted, or refused under the rule its alert names. The Slack app, the CLI and the
 * console report that answer, so none of them shows a vote as counted that the workflow refused
 * (after the operator changed the keyset, or in a race with a deadline or a halt).
 *
 * An update is durable only once the workflow accepted it: before that, Temporal may refuse it (at
 * most 10 updates in flight per workflow — a held proposal and those queued behind it count — and
 * 2,000 per run) or drop it (a server restart while no worker runs the session). So a vote not
 * accepted within `acceptWithinMs` goes as the `approval` signal instead, which is durable and has
 * no such limits; the vote's nonce makes a late copy of the update a refused `decision.replayed`.
 *
 * No answer (undefined): the vote went as the signal (not accepted in time, or a worker from
 * before the update, which has no handler for it), or it was accepted and not answered within
 * `answerWithinMs`. Either way the session has it, and counts or refuses it when it runs.
 */
import { isGrpcServiceError, ServiceError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, WorkflowUpdateStage, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { approvalSignal, voteUpdate, type ApprovalSignal, type VoteAnswer } from '../workflows/contract';
import { endedAfterAccepting } from './errors';

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

export interface VoteSenderOptions {
  /** How long the update may take to be accepted before the vote goes as the signal (plus at most one retry's wait). @default 5 s */
  readonly acceptWithinMs?: number;
  /** How long a person's click waits for the session's answer once accepted. @default 15 s */
  readonly answerWithinMs?: number;
}

/** gRPC status codes (`@grpc/grpc-js` is Temporal's dependency, not ours). */
const RESOURCE_EXHAUSTED = 8;
const FAILED_PRECONDITION = 9;

/** A worker from before `vote` rejects an update it has no handler for (known once the update is answered). */
function noVoteHandler(err: unknown): boolean {
  return err instanceof WorkflowUpdateFailedError && /^No registered handler for update: /.test(err.cause?.message ?? '');
}

/** The update was not accepted, and will not be by waiting: send the durable signal instead. */
function notAccepted(err: unknown): boolean {
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || noVoteHandler(err)) return true;
  // Too many updates in flight, or in this run (after the client's own retries).
  const grpc = err instanceof ServiceError ? err.cause : err;
  return isGrpcServiceError(grpc) && (grpc.code === RESOURCE_EXHAUSTED || grpc.code === FAILED_PRECONDITION);
}

/** A sender over a Temporal client: the `vote` update, or the `approval` signal when it is not accepted. */
export function temporalVoteSender(client: Client, opts: VoteSenderOptions = {}): VoteSender {
  const acceptWithin = opts.acceptWithinMs ?? 5_000;
  const answerWithin = opts.answerWithinMs ?? 15_000;
  return async (workflowId, envelope) => {
    const handle = client.workflow.getHandle(workflowId);
    const gone = (err: unknown): never => {
      throw err instanceof WorkflowNotFoundError ? new SessionGoneError(workflowId, { cause: err }) : err;
    };
    // A deadline, not an abort: the client retries an update refused as too many in flight (for some
    // 40 s) and ignores an abort between retries, but a retry past the deadline fails at once.
    const accepted = await client
      .withDeadline(Date.now() + acceptWithin, () => handle.startUpdate(voteUpdate, { args: [envelope], waitForStage: WorkflowUpdateStage.ACCEPTED }))
      .catch((err: unknown) => (notAccepted(err) ? undefined : gone(err)));
    if (accepted) {
      try {
        return await client.withDeadline(Date.now() + answerWithin, () => accepted.result());
      } catch (err) {
        // Accepted: the vote is in the session's history, and counts or is refused when it runs.
        if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return undefined;
        // The session ended (terminated, timed out) after it accepted the vote, before answering.
        if (err instanceof WorkflowNotFoundError || endedAfterAccepting(err)) {
          throw new SessionGoneError(workflowId, { cause: err });
        }
        // An older worker rejected it (no handler): the signal below.
        if (!noVoteHandler(err)) throw err;
      }
    }
    await handle.signal(approvalSignal, envelope).catch(gone);
    return undefined;
  };
}
