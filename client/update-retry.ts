/**
 * Sending one Temporal update until the workflow has seen it: the same update id is sent again
 * when the server says the update never took effect, so a call is neither lost nor made twice.
 */
import { ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { google } from '@temporalio/proto';

/** How many times one update is sent when its RPC timed out (each wait is the server's own, ≈ 20 s+). */
export const UPDATE_RPC_ATTEMPTS = 20;
/** How many times one update is sent when the workflow task that carried it failed. */
export const UPDATE_TASK_FAILURE_ATTEMPTS = 10;
const TASK_FAILURE_BACKOFF_MS = [50, 100, 200, 400, 800, 1_000];

/** Error details type the server attaches when an update is aborted by a failed workflow task. */
const WORKFLOW_NOT_READY = 'type.googleapis.com/temporal.api.errordetails.v1.WorkflowNotReadyFailure';
const FAILED_PRECONDITION = 9;

/**
 * The server aborted the update because the workflow task that carried it failed or timed out
 * (`WorkflowNotReady`, "unexpected workflow task failure"): the update was never accepted, so
 * sending it again by the same id is safe. Seen under overload, when a first workflow task times
 * out (temporalio/sdk-rust#888: the next task then fails on the update's acceptance).
 */
export function isUpdateAbortedByTaskFailure(err: unknown): boolean {
  if (!(err instanceof ServiceError)) return false;
  const cause = err.cause as { code?: unknown; metadata?: { get(key: string): unknown[] } } | undefined;
  if (cause?.code !== FAILED_PRECONDITION || typeof cause.metadata?.get !== 'function') return false;
  const bin = cause.metadata.get('grpc-status-details-bin')[0];
  if (!(bin instanceof Uint8Array)) return false;
  try {
    return google.rpc.Status.decode(bin).details.some((d) => d.type_url === WORKFLOW_NOT_READY);
  } catch {
    return false;
  }
}

/**
 * Runs `send` (one update with a fixed update id) until it settles: again after a workflow task
 * failure (bounded, with a short backoff) and, when `retryRpcTimeouts`, after an RPC timeout
 * (Temporal runs an update id once: the retry finds the outcome or sends what never arrived).
 */
export async function sendUpdate<T>(send: () => Promise<T>, retryRpcTimeouts: boolean): Promise<T> {
  let timeouts = 0;
  let taskFailures = 0;
  for (;;) {
    try {
      return await send();
    } catch (err) {
      if (isUpdateAbortedByTaskFailure(err) && ++taskFailures < UPDATE_TASK_FAILURE_ATTEMPTS) {
        const wait = TASK_FAILURE_BACKOFF_MS[Math.min(taskFailures, TASK_FAILURE_BACKOFF_MS.length) - 1]!;
        await new Promise((resolve) => setTimeout(resolve, wait));
        continue;
      }
      if (retryRpcTimeouts && err instanceof WorkflowUpdateRPCTimeoutOrCancelledError && ++timeouts < UPDATE_RPC_ATTEMPTS) continue;
      throw err;
    }
  }
}
