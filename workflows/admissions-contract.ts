/**
 * The open-session cap's names: one `gatehouseAdmissions` workflow per root agent and task queue
 * (`admissions-<taskQueue>/<rootAgent>`), its `admit` and `release` updates and its query. Only
 * gateways send them (the gateway's `SessionAdmissions`).
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { AdmissionState, AdmitRequest, AdmitResult } from '../policies/admissions';

/** Workflow type of an agent's admissions. */
export const ADMISSIONS_WORKFLOW_TYPE = 'gatehouseAdmissions';

const PREFIX = 'admissions-';

/**
 * Workflow id of the admissions of one root agent on one task queue. The task queue is in the id
 * because the workflow runs where it was first started: an id shared with another deployment (or
 * test run) in the namespace would send this gateway's updates to a queue none of its workers
 * poll, and every start would wait forever. A root agent has no `/`, so the id is unambiguous.
 */
export function admissionsWorkflowId(taskQueue: string, rootAgentId: string): string {
  return `${PREFIX}${taskQueue}/${rootAgentId}`;
}

/** What admissions carry to their next run (accepted only from a real continue-as-new). */
export interface CarriedAdmissions {
  readonly held: AdmissionState;
}

export const ADMISSIONS_ERROR_TYPES = {
  /** Started under an id that is not an admissions id, or with state it did not carry. */
  startRefused: 'AdmissionsStartRefusedError',
  /** An `admit` or `release` that is not one (the validator's rejection). */
  invalidRequest: 'InvalidAdmissionRequestError',
  /** An `admit` at the cap, refused by the validator: a flood of refused starts leaves no history. */
  full: 'AdmissionsFullError',
} as const;

export const admitUpdate = defineUpdate<AdmitResult, [AdmitRequest]>('admit');
export const releaseUpdate = defineUpdate<void, [{ readonly sessionIds: readonly string[] }]>('release');
/** The slots held: session id and when it was taken (epoch ms). */
export const admissionsQuery = defineQuery<readonly { readonly sessionId: string; readonly at: number }[]>('admissions');
