/**
 * `askTreeRoot`: the one way a sub-agent's sequence step reaches its session tree's root. It sends
 * the root's `treeStep` update with the worker's own Temporal client, under the update id
 * `tree:<sessionId>:p<proposalSeq>` (a retry is the same update). The root is derived from the
 * calling session's id (a sub-agent's is its parent's and `.<n>`), never taken from the input.
 * A root that is gone answers nothing: the step fails, and the session denies the call. Node-only.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { rootSessionOf } from '../policies/agent-id';
import type { TreeStepResult } from '../policies/tree-sequences';
import { sessionWorkflowId, treeStepUpdate } from '../workflows/contract';

export interface AskTreeRootInput {
  /** The sub-agent's session making the call. */
  readonly sessionId: string;
  readonly proposalSeq: number;
  readonly tool: string;
  readonly unlocked?: boolean;
}

export interface TreeRootActivityDeps {
  /** @default the worker's client (`Context.current().client`) */
  readonly client?: () => Client;
}

export function createTreeRootActivities(deps: TreeRootActivityDeps = {}) {
  return {
    async askTreeRoot(input: AskTreeRootInput): Promise<TreeStepResult> {
      const root = rootSessionOf(input.sessionId);
      if (root === input.sessionId) throw ApplicationFailure.nonRetryable(`session \`${input.sessionId}\` is a tree's root: it keeps the tree's progress itself`, 'NotASubAgent');
      const client = deps.client?.() ?? Context.current().client;
      const request = { sessionId: input.sessionId, tool: input.tool, ...(input.unlocked ? { unlocked: true } : {}) };
      try {
        return await client.workflow.getHandle(sessionWorkflowId(root)).executeUpdate(treeStepUpdate, { args: [request], updateId: `tree:${input.sessionId}:p${input.proposalSeq}` });
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw ApplicationFailure.nonRetryable(`the tree's root session \`${root}\` is not running`, 'TreeRootGone');
        throw err;
      }
    },
  };
}
