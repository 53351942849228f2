/**
 * `gatehouseLedger`: the cross-session ledger of one agent or one owner. Sessions reserve here
 * (through the worker's `reserveAcrossSessions` activity) for tools that take part in a
 * cross-session rule; the pure `reserve` of `policies/ledger.ts` decides, with this workflow's
 * clock. The update handler is synchronous, so concurrent reservations are decided one at a time
 * in the order Temporal delivers them.
 *
 * What a starter cannot choose: the scope and key come from the workflow id, carried state counts
 * only on a real continue-as-new, and no update resets anything: `returnLeases` gives back only
 * what a session's own lease counted ahead of time and did not spend, once.
 */
import { ApplicationFailure, allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { emptyLedger, pruneLedger, reserve, returnLeases, type LedgerState } from '../policies/ledger';
import { leaseReturnProblem, ledgerRequestProblem } from '../policies/ledger-requests';
import { nowMs } from './clock';
import { LEDGER_ERROR_TYPES, ledgerQuery, parseLedgerWorkflowId, reserveUpdate, returnLeasesUpdate, type CarriedLedger, type LedgerStartInput } from './ledger-contract';

const DEFAULT_HISTORY_LIMIT = 5_000;

export async function gatehouseLedger(input: LedgerStartInput = {}, carried?: CarriedLedger, runs = 1): Promise<void> {
  const info = workflowInfo();
  const named = parseLedgerWorkflowId(info.workflowId);
  if (!named) throw ApplicationFailure.nonRetryable(`\`${info.workflowId}\` is not a ledger id`, LEDGER_ERROR_TYPES.startRefused);
  // As for sessions: only a first-attempt, non-cron run can have been continued by the ledger itself.
  if (carried !== undefined && (!info.continuedFromExecutionRunId || info.attempt > 1 || info.cronSchedule)) {
    throw ApplicationFailure.nonRetryable('carried ledger state is accepted only from a run that continued as new', LEDGER_ERROR_TYPES.startRefused);
  }
  let state: LedgerState = carried?.state ?? emptyLedger();
  setHandler(
    reserveUpdate,
    (req) => {
      const r = reserve(state, req, named.scope, nowMs());
      state = r.state;
      return Promise.resolve(r.result);
    },
    {
      validator: (req) => {
        const problem = ledgerRequestProblem(req);
        if (problem) throw ApplicationFailure.nonRetryable(problem, LEDGER_ERROR_TYPES.invalidRequest);
      },
    },
  );
  setHandler(
    returnLeasesUpdate,
    (req) => {
      const known = Object.keys(state.leases ?? {}).length;
      state = returnLeases(state, req.sessionId, req.returns);
      return Promise.resolve({ returned: known - Object.keys(state.leases ?? {}).length });
    },
    {
      validator: (req) => {
        const problem = leaseReturnProblem(req);
        if (problem) throw ApplicationFailure.nonRetryable(problem, LEDGER_ERROR_TYPES.invalidRequest);
      },
    },
  );
  setHandler(ledgerQuery, () => ({
    scope: named.scope,
    key: named.key,
    budgets: Object.fromEntries(Object.entries(state.budgets).map(([k, b]) => [k, b.times.length])),
    transitions: Object.keys(state.transitions).length,
    reservations: state.order.length,
    runs,
    ...(state.leases ? { leases: Object.keys(state.leases).length } : {}),
  }));
  // A starter may choose the limit, not a limit that keeps the ledger continuing as new.
  const limit = Math.max(100, input.historyLimit ?? DEFAULT_HISTORY_LIMIT);
  // Forever, a run at a time: continue as new when the history is long, between two updates.
  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > limit);
  await condition(allHandlersFinished);
  await continueAsNew<typeof gatehouseLedger>(input, { state: pruneLedger(state, nowMs()) }, runs + 1);
}
