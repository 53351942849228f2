/**
 * `gatehouseAdmissions`: the open-session slots of one root agent. Gateways `admit` a session id
 * before they start it and `release` it when it ended (or when they find it over); the pure
 * `admit` of `policies/admissions.ts` decides. Handlers are synchronous, so concurrent admissions
 * from every gateway replica are decided one at a time: the cap is a reservation, not a count.
 */
import { ApplicationFailure, allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { admit, admitRequestProblem, atCap, release, type AdmissionState } from '../policies/admissions';
import { ADMISSIONS_ERROR_TYPES, admissionsQuery, admitUpdate, releaseUpdate, type CarriedAdmissions } from './admissions-contract';
import { nowMs } from './clock';

const HISTORY_LIMIT = 5_000;

export async function gatehouseAdmissions(carried?: CarriedAdmissions): Promise<void> {
  const info = workflowInfo();
  if (!info.workflowId.startsWith('admissions-')) throw ApplicationFailure.nonRetryable(`\`${info.workflowId}\` is not an admissions id`, ADMISSIONS_ERROR_TYPES.startRefused);
  // As for the ledger: only a first-attempt, non-cron run can have been continued by the workflow itself.
  if (carried !== undefined && (!info.continuedFromExecutionRunId || info.attempt > 1 || info.cronSchedule)) {
    throw ApplicationFailure.nonRetryable('carried admissions are accepted only from a run that continued as new', ADMISSIONS_ERROR_TYPES.startRefused);
  }
  let held: AdmissionState = carried?.held ?? {};
  const invalid = (problem: string | undefined): void => {
    if (problem) throw ApplicationFailure.nonRetryable(problem, ADMISSIONS_ERROR_TYPES.invalidRequest);
  };
  setHandler(
    admitUpdate,
    (req) => {
      const r = admit(held, req, nowMs());
      held = r.state;
      return Promise.resolve(r.result);
    },
    {
      validator: (req) => {
        invalid(admitRequestProblem(req));
        if (atCap(held, req)) throw ApplicationFailure.nonRetryable(`${Object.keys(held).length} open sessions: at the cap of ${req.cap}`, ADMISSIONS_ERROR_TYPES.full);
      },
    },
  );
  setHandler(
    releaseUpdate,
    (req) => {
      held = release(held, req.sessionIds);
      return Promise.resolve();
    },
    {
      validator: (req) => {
        const ids = (req as { sessionIds?: unknown } | null)?.sessionIds;
        invalid(Array.isArray(ids) && ids.length <= 1_000 && ids.every((id) => typeof id === 'string') ? undefined : 'expected `sessionIds` to be a list of at most 1000 ids');
      },
    },
  );
  setHandler(admissionsQuery, () => Object.entries(held).map(([sessionId, at]) => ({ sessionId, at })));
  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_LIMIT);
  await condition(allHandlersFinished);
  await continueAsNew<typeof gatehouseAdmissions>({ held });
}
