/**
 * The result of an update of a session workflow by its id, in the session's current run or, when
 * that run never had it because the session continued as new since, in the runs before it (newest
 * first, at most `EARLIER_RUNS`). A proposal's outcome thus stays readable by its id — what the agent
 * clients tell an agent to read after a lost answer — though a session continues as new every few
 * hundred history events. A closed run keeps its completed updates' outcomes, so each earlier run
 * costs one history read (its first event names the run before it) and one poll.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { hasGrpcCode } from './errors';

/** How many runs before the current one are searched: each is two calls to Temporal. */
export const EARLIER_RUNS = 8;

/** Not in that run: the SDK's WorkflowNotFoundError, or gRPC NOT_FOUND (5). */
function notFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || hasGrpcCode(err, 5);
}

/** The run `runId` (the current one when undefined) continued from, if it did. */
async function runBefore(client: Client, workflowId: string, runId: string | undefined): Promise<string | undefined> {
  const page = await client.workflowService.getWorkflowExecutionHistory({ namespace: client.options.namespace, execution: { workflowId, ...(runId ? { runId } : {}) }, maximumPageSize: 1 });
  return page.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
}

export async function updateResultAcrossRuns<T>(client: Client, workflowId: string, updateId: string): Promise<T> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    return await handle.getUpdateHandle<T>(updateId).result();
  } catch (err) {
    if (!notFound(err)) throw err;
    // Not in the current run: the runs before it, newest first; the first error stands when none has it.
    let runId = await runBefore(client, workflowId, undefined).catch(() => undefined);
    for (let i = 0; runId !== undefined && i < EARLIER_RUNS; i++) {
      try {
        return await handle.getUpdateHandle<T>(updateId, { workflowRunId: runId }).result();
      } catch (e) {
        if (!notFound(e)) throw e;
      }
      runId = await runBefore(client, workflowId, runId).catch(() => undefined);
    }
    throw err;
  }
}
