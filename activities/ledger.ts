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
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { answerFor, type LeaseReturn, type LeaseReturnRequest, type LedgerRequest, type LedgerResult, type LedgerScope } from '../policies/ledger';
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
  /**
   * The secret a lease is handed back with (an HMAC of the lease id under it; only its sha256 reaches
   * the ledger). Workers sharing it can hand back each other's leases. @default random per process:
   * a lease handed back by another worker process stays counted until it expires from its windows
   */
  readonly leaseSecret?: string;
}

export function createLedgerActivities(deps: LedgerActivityDeps = {}) {
  const secret = deps.leaseSecret ?? randomBytes(32).toString('hex');
  const tokenOf = (leaseId: string) => createHmac('sha256', secret).update(leaseId).digest('hex');
  const withTokens = (returns: readonly LeaseReturn[]) => returns.map((r) => ({ ...r, token: tokenOf(r.leaseId) }));
  return {
    async reserveAcrossSessions(input: ReserveInput): Promise<LedgerResult> {
      const ctx = Context.current();
      const client = deps.client?.() ?? ctx.client;
      const workflowId = ledgerWorkflowId(input.scope, input.key);
      const leaseKey = input.request.lease !== undefined ? createHash('sha256').update(tokenOf(input.request.reservationId)).digest('hex') : undefined;
      const request: LedgerRequest = { ...input.request, ...(leaseKey ? { leaseKey } : {}), ...(input.request.returns ? { returns: withTokens(input.request.returns) } : {}) };
      const options = { args: [request] as [LedgerRequest], updateId: input.request.reservationId };
      // A lease granted under another key (a first attempt on another worker, or a squatted id) is not this session's to spend.
      const answer = (result: LedgerResult): LedgerResult => {
        const checked = answerFor(input.request, result);
        if (!checked.lease || checked.lease.key === leaseKey) return checked;
        const { lease: _other, ...kept } = checked;
        return kept;
      };
      try {
        return answer(await client.workflow.getHandle(workflowId).executeUpdate(reserveUpdate, options));
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
      return answer(await client.workflow.executeUpdateWithStart(reserveUpdate, { ...options, startWorkflowOperation: start }));
    },

    /** Hands a session's leases back, under the update id `returnId` (a retry is the same return). */
    async returnLeases(input: ReturnLeasesInput): Promise<{ readonly returned: number }> {
      const client = deps.client?.() ?? Context.current().client;
      try {
        const request = { ...input.request, returns: withTokens(input.request.returns) };
        return await client.workflow.getHandle(ledgerWorkflowId(input.scope, input.key)).executeUpdate(returnLeasesUpdate, { args: [request], updateId: input.request.returnId });
      } catch (err) {
        // No running ledger: it holds no lease (a lease lives in the ledger's state, carried across runs).
        if (err instanceof WorkflowNotFoundError) return { returned: 0 };
        throw err;
      }
    },
  };
}
