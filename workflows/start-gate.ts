/**
 * What a session start may claim, checked against what Temporal itself says about the run: carried
 * state only when the run really continued as new, parent fields only when the workflow really has
 * that parent. A run with a parent is a sub-agent: everything about it comes from the parent's
 * spawn record (`loadSessionContext`, `fromParent`); a top-level one's identity and policy are
 * checked by `loadSessionContext` (credential, revocation, policy registry). Pure and workflow-safe.
 */
import type { StartRefusal } from '../activities/types';
import { sessionWorkflowId, type SessionStartInput } from './contract';

/** What Temporal says about this run (`workflowInfo()`). */
export interface RunFacts {
  readonly workflowId?: string;
  readonly continuedFromExecutionRunId?: string;
  readonly parentWorkflowId?: string;
  /** Set when whoever started the workflow gave it a cron schedule. */
  readonly cronSchedule?: string;
  /** 1 for a first run or a continue-as-new; more for a retry of a failed run (which gets the same input). */
  readonly attempt: number;
}

/** The fields a sub-agent's start input carried before its parent's record replaced them (replays of older histories). */
export interface LegacyChild {
  readonly agentId: string;
  readonly owner: string;
  readonly policyRef: string;
  readonly principal: string;
}

export type StartGate =
  | { readonly ok: true; readonly child?: { readonly legacy?: LegacyChild } }
  | { readonly ok: false; readonly refusal: StartRefusal };

const refused = (rule: string, message: string): StartGate => ({ ok: false, refusal: { rule, message } });

export function checkStart(input: SessionStartInput, carried: unknown, run: RunFacts): StartGate {
  // Temporal sets `continuedFromExecutionRunId` on cron and retry runs too, which repeat the
  // starter's own input: only a first-attempt, non-cron run can have been continued by the session.
  if (run.cronSchedule) return refused('start.cron', 'a session never runs on a cron schedule: each run would repeat its starter\'s input');
  if (carried !== undefined && (!run.continuedFromExecutionRunId || run.attempt > 1)) {
    return refused('start.carried', 'carried state is accepted only from a run that continued as new');
  }
  const claimsParent = input.parentSessionId !== undefined || input.inheritedTransitions !== undefined;
  if (claimsParent && (input.parentSessionId === undefined || run.parentWorkflowId !== sessionWorkflowId(input.parentSessionId))) {
    return refused('start.parent', `the start claims parent session \`${input.parentSessionId ?? '(none)'}\`, which did not start this workflow`);
  }
  if (run.parentWorkflowId === undefined) return { ok: true };
  if (input.sessionId !== undefined && run.workflowId !== undefined && sessionWorkflowId(input.sessionId) !== run.workflowId) {
    return refused('start.session-id', `the start names session \`${input.sessionId}\` but runs as workflow \`${run.workflowId}\``);
  }
  const legacy =
    typeof input.agentId === 'string' && typeof input.owner === 'string' && typeof input.policyRef === 'string'
      ? { agentId: input.agentId, owner: input.owner, policyRef: input.policyRef, principal: input.principal ?? input.agentId }
      : undefined;
  return { ok: true, child: legacy ? { legacy } : {} };
}
