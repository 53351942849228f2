/**
 * `createGatehouseWorker`: the Temporal worker that hosts the `agentSession` workflow and every
 * activity it calls, on one task queue. Dependencies come in as options (pools, policy, catalog,
 * Slack client), so the CLI's stack, `worker/main.ts`, the tests and the benchmark build the same
 * worker with different wiring. Node-only.
 */
import { availableParallelism } from 'node:os';
import { boundForCache } from './session-bound';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import type { webApi } from '@slack/bolt';
import type { Pool } from 'pg';
import { createActivities } from '../activities';
import { temporalCallerCheck } from '../activities/caller';
import { AuditStore } from '../audit/store';
import type { ActivityLog } from '../activities/approvals';
import type { IntentScorerConfig } from '../activities/intent';
import type { ToolCatalog } from '../activities/tools/catalog';
import { createSampleCatalog } from '../activities/tools/sample';
import type { PolicyDocument } from '../policies';
import type { Keyset } from '../policies/trust';
import { activeTelemetry } from '../telemetry/active';
import { DEFAULT_TASK_QUEUE } from '../workflows/contract';
import { WORKFLOW_BUNDLER_OPTIONS, WORKFLOWS_PATH } from './bundle';
import { assertNamespaceExists } from './namespace-check';

export { WORKFLOWS_PATH } from './bundle';

export interface GatehouseWorkerOptions {
  readonly connection: NativeConnection;
  /** @default 'default' */
  readonly namespace?: string;
  /** @default 'gatehouse' */
  readonly taskQueue?: string;
  /** The Gatehouse database (audit trail, sessions, approvals), migrated. */
  readonly auditPool: Pool;
  /** The production database the sample tools act on (ignored when `catalog` is given). */
  readonly productionPool?: Pool;
  /** The worker's default policy, used by sessions that name none (a parsed document). */
  readonly policy: PolicyDocument;
  /** Name of the default policy. @default 'default' */
  readonly policyName?: string;
  /** Further named policies an agent credential may allow its sessions to name (`policyRef`). */
  readonly policies?: Readonly<Record<string, PolicyDocument>>;
  /** The keyset: operator keys (credentials, resumes, budget raises), approver and service keys (votes). */
  readonly keyset: Keyset;
  /** The tool catalog; default the sample catalog on `productionPool`. */
  readonly catalog?: ToolCatalog;
  readonly slack?: webApi.WebClient;
  readonly intent?: IntentScorerConfig;
  readonly log?: ActivityLog;
  /** The secret cross-session leases are handed back with (`LedgerActivityDeps.leaseSecret`). @default random per process */
  readonly leaseSecret?: string;
  /**
   * History events after which a session run continues as new (the worker's choice, recorded at a
   * session's start and carried; never a caller's). @default from the worker's cache at each start:
   * 600 events while it is under half full, else 120 (`worker/session-bound.ts`)
   */
  readonly sessionHistoryLimit?: number;
  /** A prebuilt workflow bundle (tests and benchmarks build it once per process). */
  readonly workflowBundle?: WorkerOptions['workflowBundle'];
  /** Extra worker tuning (concurrency, identity…). */
  readonly workerOptions?: Partial<Omit<WorkerOptions, 'connection' | 'namespace' | 'taskQueue' | 'activities' | 'workflowsPath' | 'workflowBundle'>>;
}

/**
 * Workflow threads per worker: two from 2 cores. One was measured as fast and cheaper per call on
 * 2 cores, but a continue-as-new race wedged a session once on one thread and never on two
 * (BENCHMARKS, "What a gated call costs the worker, session 16"): two until that race is understood.
 */
export const GATEHOUSE_WORKFLOW_THREADS = Math.min(2, availableParallelism());

/** Thrown when the worker cannot be wired (no catalog and no production database). */
export class WorkerConfigError extends Error {
  readonly type = 'WorkerConfigError';
  constructor(message: string) {
    super(message);
    this.name = 'WorkerConfigError';
  }
}

export async function createGatehouseWorker(opts: GatehouseWorkerOptions): Promise<Worker> {
  const catalog = opts.catalog ?? (opts.productionPool ? createSampleCatalog({ productionPool: opts.productionPool }) : undefined);
  if (!catalog) throw new WorkerConfigError('a worker needs a tool catalog or a production database for the sample catalog');
  const bound = opts.sessionHistoryLimit;
  if (bound !== undefined && !(Number.isInteger(bound) && bound >= 1)) throw new WorkerConfigError(`\`sessionHistoryLimit\` must be a whole number of events of at least 1, got \`${String(bound)}\``);
  const namespace = opts.namespace ?? 'default';
  const taskQueue = opts.taskQueue ?? DEFAULT_TASK_QUEUE;
  // Set once created: the sessions' default bound reads its cache (activities run only after that).
  let worker: Worker | undefined;
  const activities = createActivities({
    auditPool: opts.auditPool,
    // Always the real check, on the worker's own connection, namespace and task queue: no option replaces it.
    caller: temporalCallerCheck({ connection: opts.connection, namespace, taskQueue, alerts: new AuditStore(opts.auditPool) }),
    catalog,
    policy: opts.policy,
    keyset: opts.keyset,
    ...(opts.policyName ? { policyName: opts.policyName } : {}),
    ...(opts.policies ? { policies: opts.policies } : {}),
    ...(opts.slack ? { slack: opts.slack } : {}),
    ...(opts.intent ? { intent: opts.intent } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.leaseSecret ? { ledger: { leaseSecret: opts.leaseSecret } } : {}),
    // Unset: each session's bound follows this worker's cache as it is when the session starts.
    sessionHistoryLimit: bound ?? (() => (worker ? boundForCache({ cached: worker.getStatus().numCachedWorkflows, capacity: worker.options.maxCachedWorkflows }) : undefined)),
  });
  await assertNamespaceExists(opts.connection, namespace);
  // With telemetry on: the workflow interceptor module (bundled here, or already in a prebuilt
  // bundle), activity interceptors and the sink that carries workflow spans out of the sandbox.
  const traced = activeTelemetry()?.workerOptions();
  const extra = opts.workerOptions ?? {};
  worker = await Worker.create({
    workflowThreadPoolSize: GATEHOUSE_WORKFLOW_THREADS,
    ...extra,
    ...(traced
      ? {
        interceptors: {
          ...extra.interceptors,
          activity: [...(extra.interceptors?.activity ?? []), ...(traced.interceptors.activity ?? [])],
          // A prebuilt bundle must have been built with TRACING_WORKFLOW_MODULES (telemetry/install.ts).
          ...(opts.workflowBundle ? {} : { workflowModules: [...(extra.interceptors?.workflowModules ?? []), ...(traced.interceptors.workflowModules ?? [])] }),
        },
        sinks: { ...extra.sinks, ...traced.sinks },
      }
      : {}),
    connection: opts.connection,
    namespace,
    taskQueue,
    activities,
    // Bundled here: the pure policy modules are shared by every cached session (worker/bundle.ts).
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: { ...extra.bundlerOptions, ...WORKFLOW_BUNDLER_OPTIONS } }),
  });
  return worker;
}
