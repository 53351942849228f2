/**
 * `readSpawnRecord`: what a sub-agent's start reads instead of its own start input. Temporal
 * names the calling run's parent (`describe`, not anything the caller says); that parent must be
 * a genuine session — type `agentSession`, on Gatehouse's task queue — and its `spawnRecord`
 * query, answered by Gatehouse's worker, must name this very workflow. A workflow of the
 * attacker's own (on its own task queue, whatever it calls itself) records nothing a child
 * would take. Node-only.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { AGENT_ID_PATTERN, rootAgentOf } from '../policies/agent-id';
import { SESSION_WORKFLOW_TYPE, sessionWorkflowId, spawnRecordQuery, type SpawnRecord } from '../workflows/contract';
import type { StartRefusal } from './types';

/** The calling run, as the activity context names it. */
export interface CallingRun {
  readonly workflowId: string;
  readonly runId: string;
  /** Gatehouse's task queue: the one this activity runs on. */
  readonly taskQueue: string;
}

export type SpawnRecordCheck = { readonly ok: true; readonly record: SpawnRecord } | { readonly ok: false; readonly refusal: StartRefusal };

const parentRefusal = (message: string): SpawnRecordCheck => ({ ok: false, refusal: { rule: 'start.parent', message } });

export async function readSpawnRecord(client: Client, caller: CallingRun): Promise<SpawnRecordCheck> {
  const self = await client.workflow.getHandle(caller.workflowId, caller.runId).describe();
  const parent = self.parentExecution?.workflowId && self.parentExecution.runId ? { workflowId: self.parentExecution.workflowId, runId: self.parentExecution.runId } : undefined;
  if (!parent) return parentRefusal(`workflow \`${caller.workflowId}\` claims a parent session but Temporal names none`);
  const handle = client.workflow.getHandle(parent.workflowId, parent.runId);
  const p = await handle.describe().catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  });
  if (!p) return parentRefusal(`parent \`${parent.workflowId}\` is not found`);
  if (p.type !== SESSION_WORKFLOW_TYPE || p.taskQueue !== caller.taskQueue) {
    return parentRefusal(`parent \`${parent.workflowId}\` is not a Gatehouse session (type \`${p.type}\` on task queue \`${p.taskQueue}\`)`);
  }
  let record: SpawnRecord | null;
  try {
    record = (await handle.query(spawnRecordQuery, caller.workflowId)) as SpawnRecord | null;
  } catch (err) {
    return parentRefusal(`parent session \`${parent.workflowId}\` did not answer for its sub-agents: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!record) return parentRefusal(`parent session \`${parent.workflowId}\` recorded no sub-agent \`${caller.workflowId}\``);
  // The record is the parent's own; these hold by construction and are checked once more.
  const sane =
    sessionWorkflowId(record.sessionId) === caller.workflowId &&
    sessionWorkflowId(record.parentSessionId) === parent.workflowId &&
    AGENT_ID_PATTERN.test(record.principal) &&
    rootAgentOf(record.agentId) === record.principal &&
    record.agentId !== record.principal;
  if (!sane) return parentRefusal(`parent session \`${parent.workflowId}\`'s record of \`${caller.workflowId}\` does not name it or its root agent`);
  return { ok: true, record };
}
