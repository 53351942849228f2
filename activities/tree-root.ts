/**
 * `askTreeRoot`: the one way a sub-agent's sequence step reaches its session tree's root. It sends
 * the root's `treeStep` update with the worker's own Temporal client, under the update id
 * `tree:<sessionId>:p<proposalSeq>` (a retry is the same update), and checks that the answer is
 * for its own request (Temporal answers an update id with its first outcome, whoever sent it). The
 * root is derived from the calling session's id (a sub-agent's is its parent's and `.<n>`), never
 * taken from the input. A root that is gone, or refuses the step, answers nothing: the step fails
 * at once (not retried), and the session denies the call. Node-only.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { rootSessionOf } from '../policies/agent-id';
import { treeAnswerFor, type TreeStepRequest, type TreeStepResult } from '../policies/tree-sequences';
import { sessionWorkflowId, treeStepUpdate } from '../workflows/contract';

export interface AskTreeRootInput {
  /** The sub-agent's session making the call. */
  readonly sessionId: string;
  readonly proposalSeq: number;
  readonly tool: string;
  /** The session's clock at the call (ms): fixed in the scheduled input, so a retry sends the same request. */
  readonly at: number;
  readonly unlockedRules?: readonly string[];
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
      const request: TreeStepRequest = {
        stepId: `tree:${input.sessionId}:p${input.proposalSeq}`,
        sessionId: input.sessionId,
        tool: input.tool,
        at: input.at,
        ...(input.unlockedRules && input.unlockedRules.length > 0 ? { unlockedRules: input.unlockedRules } : {}),
      };
      try {
        return treeAnswerFor(request, await client.workflow.getHandle(sessionWorkflowId(root)).executeUpdate(treeStepUpdate, { args: [request], updateId: request.stepId }));
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw ApplicationFailure.nonRetryable(`the tree's root session \`${root}\` is not running`, 'TreeRootGone');
        // Refused by the root (its validator, or it ended): asking again changes nothing.
        if (err instanceof WorkflowUpdateFailedError) throw ApplicationFailure.nonRetryable(`the tree's root session \`${root}\` refused the step: ${err.cause?.message ?? err.message}`, 'TreeStepRefused');
        throw err;
      }
    },
  };
}
