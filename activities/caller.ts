/**
 * The caller check: an activity of this worker runs only for a genuine Gatehouse session, and
 * only about that session. Anyone who can reach the namespace can schedule an activity by name on
 * the worker's task queue from a workflow of their own; the activity task says who scheduled it
 * (`Context.current().info`, filled in by the server, not by the caller), and the check asks the
 * server about that run once: it must be an `agentSession` on this worker's task queue, in this
 * namespace, under the workflow id `session-<sessionId>`, with the very run id. Every session id
 * the input names (and every id scoped to a session: idempotency keys, approval and reservation
 * ids) must be the caller's own. A genuine run is remembered by run id (bounded), so the cost is
 * one describe per run, then a map lookup. A refusal raises an alert and fails the activity with
 * the non-retryable `ForeignCallerError` before anything else is written.
 *
 * What it cannot tell: a rogue worker polling this task queue runs workflow code of its own under
 * genuine runs. Only the production shape's mutual TLS keeps such a worker out. Node-only.
 */
import { Context, type Info } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { AuditStore } from '../audit/store';
import { shownLine } from '../approvals/shown-text';
import { SESSION_WORKFLOW_TYPE } from '../workflows/contract';

/** Error type of a refused caller (non-retryable: the same caller is refused the same way). */
export const FOREIGN_CALLER_ERROR = 'ForeignCallerError';
/** Error type when the server could not be asked about the caller (retryable). */
export const CALLER_CHECK_UNAVAILABLE = 'CallerCheckUnavailableError';
/** Alert kind of a refused caller. */
export const FOREIGN_CALLER_ALERT = 'caller.foreign';

const SESSION_PREFIX = 'session-';
/** Longest id quoted in a refusal: a foreign caller chooses them, an alert must stay readable. */
const MAX_SHOWN = 200;

/**
 * An id a caller chose (a workflow id, type or task queue, an id its input names), as a refusal
 * quotes it: its first `MAX_SHOWN` characters (then `…`), as one line with its hidden characters
 * escaped. The refusal reaches the `alerts` row and the SDK's log of the failed activity, read in
 * an operator's terminal.
 */
function shown(id: unknown): string {
  const text = String(id);
  return text.length > MAX_SHOWN ? `${shownLine(text.slice(0, MAX_SHOWN))}…` : shownLine(text);
}
const DEFAULT_CACHE_SIZE = 10_000;

/** What an activity's input says about whose it is. */
export interface CallerClaims {
  /** Session ids the input names (the session written, run, approved or reserved for). */
  readonly sessionIds?: readonly unknown[];
  /** Workflow ids the input names (a session record, an approval row). */
  readonly workflowIds?: readonly unknown[];
  /** Ids scoped to a session, `<sessionId>:…`: idempotency keys, approval and reservation ids. */
  readonly scoped?: readonly unknown[];
}

export interface CallerCheck {
  /** Resolves when the calling workflow may run `activity` with these claims; otherwise alerts and throws `ForeignCallerError`. */
  verify(activity: string, claims: CallerClaims): Promise<void>;
}

/** The one call of the workflow service the check makes (a worker's `NativeConnection` or a client `Connection`). */
export interface DescribeService {
  readonly workflowService: {
    describeWorkflowExecution(req: temporal.api.workflowservice.v1.IDescribeWorkflowExecutionRequest): Promise<temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse>;
  };
}

export interface TemporalCallerCheckOptions {
  readonly connection: DescribeService;
  /** The worker's namespace and task queue: a genuine session runs on both. */
  readonly namespace: string;
  readonly taskQueue: string;
  readonly alerts: Pick<AuditStore, 'raiseAlert'>;
  /** Genuine runs remembered. @default 10000 */
  readonly cacheSize?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** The real check, with counters of describes made and cache hits (for the bench). */
export interface TemporalCallerCheck extends CallerCheck {
  readonly stats: { describes: number; hits: number };
}

export function temporalCallerCheck(o: TemporalCallerCheckOptions): TemporalCallerCheck {
  const maxSize = o.cacheSize ?? DEFAULT_CACHE_SIZE;
  const now = o.now ?? Date.now;
  // run id -> workflow id, of runs the server said are genuine sessions. Only positive answers
  // enter: a flood of foreign runs cannot evict the genuine ones.
  const genuine = new Map<string, string>();
  const inFlight = new Map<string, Promise<string | undefined>>();
  const stats = { describes: 0, hits: 0 };

  /** Why the server's account of the run is not a genuine session's, or undefined. */
  async function describeRun(workflowId: string, runId: string): Promise<string | undefined> {
    stats.describes += 1;
    let info: temporal.api.workflow.v1.IWorkflowExecutionInfo | null | undefined;
    try {
      info = (await o.connection.workflowService.describeWorkflowExecution({ namespace: o.namespace, execution: { workflowId, runId } })).workflowExecutionInfo;
    } catch (err) {
      // gRPC NOT_FOUND: no such run here. Anything else: the server could not answer; try again.
      if ((err as { code?: number }).code === 5) return `run \`${shown(runId)}\` of \`${shown(workflowId)}\` does not exist in namespace \`${o.namespace}\``;
      throw ApplicationFailure.retryable(`the caller check could not describe run \`${shown(runId)}\` of \`${shown(workflowId)}\`: ${err instanceof Error ? err.message : String(err)}`, CALLER_CHECK_UNAVAILABLE);
    }
    if (info?.execution?.workflowId !== workflowId || info.execution.runId !== runId) return `the server does not know run \`${shown(runId)}\` of \`${shown(workflowId)}\``;
    if (info.type?.name !== SESSION_WORKFLOW_TYPE) return `its workflow type \`${shown(info.type?.name ?? '')}\` is not \`${SESSION_WORKFLOW_TYPE}\``;
    if (info.taskQueue !== o.taskQueue) return `its task queue \`${shown(info.taskQueue ?? '')}\` is not gatehouse's \`${o.taskQueue}\``;
    return undefined;
  }

  /** Asks the server once per run; concurrent first calls of one run share the answer. */
  async function runProblem(workflowId: string, runId: string): Promise<string | undefined> {
    if (genuine.get(runId) === workflowId) {
      stats.hits += 1;
      return undefined;
    }
    let pending = inFlight.get(runId);
    if (!pending) {
      pending = describeRun(workflowId, runId).finally(() => inFlight.delete(runId));
      inFlight.set(runId, pending);
    }
    const problem = await pending;
    if (problem === undefined && !genuine.has(runId)) {
      if (genuine.size >= maxSize) genuine.delete(genuine.keys().next().value as string);
      genuine.set(runId, workflowId);
    }
    return problem;
  }

  async function problemOf(info: Info, claims: CallerClaims): Promise<string | undefined> {
    const run = info.workflowExecution;
    if (!run || info.workflowType === undefined) return 'it was not scheduled by a workflow';
    // An activity runs in its workflow's namespace; the describe below asks in the worker's.
    if (info.namespace !== o.namespace) return `it runs in namespace \`${shown(info.namespace)}\`, not gatehouse's \`${o.namespace}\``;
    if (info.workflowType !== SESSION_WORKFLOW_TYPE) return `its workflow type \`${shown(info.workflowType)}\` is not \`${SESSION_WORKFLOW_TYPE}\``;
    if (!run.workflowId.startsWith(SESSION_PREFIX) || run.workflowId.length === SESSION_PREFIX.length) return `its workflow id is not a session's (\`${SESSION_PREFIX}<sessionId>\`)`;
    const own = run.workflowId.slice(SESSION_PREFIX.length);
    for (const id of claims.sessionIds ?? []) if (id !== own) return `it names session \`${shown(id)}\` but its caller is session \`${shown(own)}\``;
    for (const id of claims.workflowIds ?? []) if (id !== run.workflowId) return `it names workflow \`${shown(id)}\` but its caller is \`${shown(run.workflowId)}\``;
    for (const id of claims.scoped ?? []) if (typeof id !== 'string' || !id.startsWith(`${own}:`)) return `it names \`${shown(id)}\`, which is not session \`${shown(own)}\`'s`;
    // A local activity runs inside the workflow task of a workflow this very worker runs: the
    // code is our bundle's, on our task queue (no foreign worker can hand us one). The checks
    // above still bind it to its own session; no round trip is needed.
    if (info.isLocal) return undefined;
    return runProblem(run.workflowId, run.runId);
  }

  return {
    stats,
    async verify(activity, claims) {
      const info = Context.current().info;
      const problem = await problemOf(info, claims);
      if (problem === undefined) return;
      const run = info.workflowExecution;
      const caller = run ? `workflow \`${shown(run.workflowId)}\` (type \`${shown(info.workflowType ?? '')}\`, run \`${shown(run.runId)}\`)` : 'a caller with no workflow';
      const message = `activity \`${activity}\` refused for ${caller}: ${problem}`;
      // (A session id too long to index is not one Gatehouse made: the caller's id is used then.)
      const named = claims.sessionIds?.find((id): id is string => typeof id === 'string' && id.length > 0 && id.length <= MAX_SHOWN);
      // The alert goes to the session the call aimed at, else to the caller's id. An alert that
      // cannot be written fails the attempt (retryable): a refusal is never silent.
      await o.alerts.raiseAlert(named ?? run?.workflowId ?? '(none)', FOREIGN_CALLER_ALERT, message, new Date(now()).toISOString());
      throw ApplicationFailure.create({
        type: FOREIGN_CALLER_ERROR,
        message,
        nonRetryable: true,
        details: [{ rule: FOREIGN_CALLER_ALERT, activity, reason: problem, workflowId: run?.workflowId, runId: run?.runId, workflowType: info.workflowType }],
      });
    },
  };
}
