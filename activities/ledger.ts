/**
 * `reserveAcrossSessions`: the one way a reservation reaches a cross-session ledger. It sends the
 * `reserve` update with the worker's own Temporal client (the activity context's) — a plain update
 * to the running ledger (the common case, and the cheaper call), else update-with-start
 * (`USE_EXISTING`) when no ledger runs — under the update id
 * `reservationId` (`<sessionId>:p<proposalSeq>`): a retry after a crash is the same update, so
 * nothing is lost or counted twice. The answer must echo the request's digest (`answerFor`), so an
 * update id someone else used first cannot decide this call. `returnLeases` hands a session's
 * leases back the same way, under its own update id. Node-only.
 */
import { Context } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { answerFor, type LeaseReturnRequest, type LedgerRequest, type LedgerResult, type LedgerScope } from '../policies/ledger';
import { LEDGER_WORKFLOW_TYPE, ledgerWorkflowId, reserveUpdate, returnLeasesUpdate, type LedgerStartInput } from '../workflows/ledger-contract';

export interface ReserveInput {
  readonly scope: LedgerScope;
  /** The agent (the credential's) or the owner the ledger is for. */
  readonly key: string;
  readonly request: LedgerRequest;
}

export interface ReturnLeasesInput {
  readonly scope: LedgerScope;
  readonly key: string;
  readonly request: LeaseReturnRequest;
}

export interface LedgerActivityDeps {
  /** The client to reach ledgers with. @default the worker's client (`Context.current().client`) */
  readonly client?: () => Client;
  /** Task queue ledgers run on. @default the calling workflow's */
  readonly taskQueue?: string;
}

export function createLedgerActivities(deps: LedgerActivityDeps = {}) {
  return {
    async reserveAcrossSessions(input: ReserveInput): Promise<LedgerResult> {
      const ctx = Context.current();
      const client = deps.client?.() ?? ctx.client;
      const workflowId = ledgerWorkflowId(input.scope, input.key);
      const options = { args: [input.request] as [LedgerRequest], updateId: input.request.reservationId };
      try {
        return answerFor(input.request, await client.workflow.getHandle(workflowId).executeUpdate(reserveUpdate, options));
      } catch (err) {
        // No running ledger (never started, or its last run closed): start one with the update.
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
      const start = new WithStartWorkflowOperation(LEDGER_WORKFLOW_TYPE, {
        workflowId,
        taskQueue: deps.taskQueue ?? ctx.info.taskQueue,
        workflowIdConflictPolicy: 'USE_EXISTING',
        args: [{} satisfies LedgerStartInput],
      });
      const result = await client.workflow.executeUpdateWithStart(reserveUpdate, { ...options, startWorkflowOperation: start });
      return answerFor(input.request, result);
    },

    /** Hands a session's leases back, under the update id `returnId` (a retry is the same return). */
    async returnLeases(input: ReturnLeasesInput): Promise<{ readonly returned: number }> {
      const client = deps.client?.() ?? Context.current().client;
      try {
        return await client.workflow.getHandle(ledgerWorkflowId(input.scope, input.key)).executeUpdate(returnLeasesUpdate, { args: [input.request], updateId: input.request.returnId });
      } catch (err) {
        // No running ledger: it holds no lease (a lease lives in the ledger's state, carried across runs).
        if (err instanceof WorkflowNotFoundError) return { returned: 0 };
        throw err;
      }
    },
  };
}
