/**
 * What a session start may claim, checked against what Temporal itself says about the run: carried
 * state only when the run really continued as new, parent fields only when the workflow really has
 * that parent. Everything else about identity and policy is checked by `loadSessionContext`
 * (credential, revocation, policy registry). Pure and workflow-safe.
 */
import type { StartRefusal } from '../activities/types';
import { sessionWorkflowId, type SessionStartInput } from './contract';

/** What Temporal says about this run (`workflowInfo()`). */
export interface RunFacts {
  readonly continuedFromExecutionRunId?: string;
  readonly parentWorkflowId?: string;
  /** Set when whoever started the workflow gave it a cron schedule. */
  readonly cronSchedule?: string;
  /** 1 for a first run or a continue-as-new; more for a retry of a failed run (which gets the same input). */
  readonly attempt: number;
}

export type StartGate =
  | { readonly ok: true; readonly child?: { readonly agentId: string; readonly owner: string; readonly policyRef: string; readonly principal: string } }
  | { readonly ok: false; readonly refusal: StartRefusal };

export function checkStart(input: SessionStartInput, carried: unknown, run: RunFacts): StartGate {
  // Temporal sets `continuedFromExecutionRunId` on cron and retry runs too, which repeat the
  // starter's own input: only a first-attempt, non-cron run can have been continued by the session.
  if (run.cronSchedule) {
    return { ok: false, refusal: { rule: 'start.cron', message: 'a session never runs on a cron schedule: each run would repeat its starter\'s input' } };
  }
  if (carried !== undefined && (!run.continuedFromExecutionRunId || run.attempt > 1)) {
    return { ok: false, refusal: { rule: 'start.carried', message: 'carried state is accepted only from a run that continued as new' } };
  }
  const claimsParent = input.parentSessionId !== undefined || input.inheritedTransitions !== undefined;
  if (!claimsParent) return { ok: true };
  if (input.parentSessionId === undefined || run.parentWorkflowId !== sessionWorkflowId(input.parentSessionId)) {
    return { ok: false, refusal: { rule: 'start.parent', message: `the start claims parent session \`${input.parentSessionId ?? '(none)'}\`, which did not start this workflow` } };
  }
  if (typeof input.agentId !== 'string' || typeof input.owner !== 'string' || typeof input.policyRef !== 'string') {
    return { ok: false, refusal: { rule: 'start.parent', message: 'a sub-agent start needs the agent, owner and policy its parent gives it' } };
  }
  return { ok: true, child: { agentId: input.agentId, owner: input.owner, policyRef: input.policyRef, principal: input.principal ?? input.agentId } };
}
