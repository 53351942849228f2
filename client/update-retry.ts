/**
 * Sending one Temporal update until the workflow has seen it: the same update id is sent again
 * when the server says the update did not take effect, so a call is neither lost nor made twice.
 */
import { WorkflowUpdateRPCTimeoutOrCancelledError, isGrpcServiceError } from '@temporalio/client';
import { google } from '@temporalio/proto';

/** How many times one update is sent when its RPC timed out (each wait is the server's own, ≈ 20 s+). */
export const UPDATE_RPC_ATTEMPTS = 20;
/**
 * How long one update is sent again while the server says the workflow is not ready (its task is
 * failing or timed out: an overloaded worker's), and the backoff between sends.
 */
export const NOT_READY_WAIT_MS = 10 * 60_000;
const NOT_READY_BACKOFF_MS = { first: 100, max: 5_000 } as const;

/** Error details type of the server's `WorkflowNotReady` answer. */
const WORKFLOW_NOT_READY = 'type.googleapis.com/temporal.api.errordetails.v1.WorkflowNotReadyFailure';
const FAILED_PRECONDITION = 9;

/**
 * The server did not take the update because the session's workflow task is failing: it refuses
 * updates while a task is retried ("Workflow Task in failed state"), and aborts one whose task
 * failed before the workflow accepted it ("unexpected workflow task failure"; under overload a
 * timed-out first task makes the next one fail on the update's acceptance, temporalio/sdk-rust#888).
 * Both are gRPC FAILED_PRECONDITION with a `WorkflowNotReadyFailure` detail: passing, unlike a
 * closed session's, and the update never ran, so sending it again by the same id is safe.
 */
export function isWorkflowNotReady(err: unknown): boolean {
  // The gRPC error itself, or as the cause of the SDK's `ServiceError`.
  const grpc = [err, err instanceof Error ? err.cause : undefined].find(isGrpcServiceError);
  if (grpc?.code !== FAILED_PRECONDITION) return false;
  const bin = grpc.metadata.get('grpc-status-details-bin')[0];
  if (!(bin instanceof Uint8Array)) return false;
  try {
    return google.rpc.Status.decode(bin).details.some((d) => d.type_url === WORKFLOW_NOT_READY);
  } catch {
    return false;
  }
}

export interface SendUpdateOptions {
  /** Send again after an RPC timeout (not where the caller's own deadline aborts the RPC). */
  readonly retryRpcTimeouts: boolean;
  /** How long to keep sending while the workflow is not ready (default `NOT_READY_WAIT_MS`). */
  readonly notReadyWaitMs?: number;
  /** Once aborted, a failed send is not sent again (the caller stopped waiting). */
  readonly signal?: AbortSignal;
}

/**
 * Runs `send` (one update with a fixed update id) until it settles: again while the workflow is
 * not ready (with a growing backoff, up to `notReadyWaitMs`) and, if asked, after an RPC timeout
 * (Temporal runs an update id once: the retry finds the outcome or sends what never arrived).
 */
export async function sendUpdate<T>(send: () => Promise<T>, options: SendUpdateOptions): Promise<T> {
  const notReadyUntil = Date.now() + (options.notReadyWaitMs ?? NOT_READY_WAIT_MS);
  let backoff: number = NOT_READY_BACKOFF_MS.first;
  let timeouts = 0;
  for (;;) {
    try {
      return await send();
    } catch (err) {
      if (options.signal?.aborted) throw err;
      if (isWorkflowNotReady(err) && Date.now() + backoff < notReadyUntil) {
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, NOT_READY_BACKOFF_MS.max);
        continue;
      }
      if (options.retryRpcTimeouts && err instanceof WorkflowUpdateRPCTimeoutOrCancelledError && ++timeouts < UPDATE_RPC_ATTEMPTS) continue;
      throw err;
    }
  }
}
