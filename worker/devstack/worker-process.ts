/**
 * A Gatehouse worker in a process of its own (`node --import tsx worker/main.ts`, configured by
 * environment only, in its own process group), for whoever must crash one on purpose: the resume
 * demo and the durability tests SIGKILL it mid-call and start another on the same task queue.
 * Ready means: the Temporal server lists a poller with this process's identity on that queue.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { WorkflowService } from '@temporalio/client';
import { spawnGroup } from './process-group';

const ROOT = join(__dirname, '..', '..');
/** Temporal's enum value for workflow task queues. */
const TASK_QUEUE_TYPE_WORKFLOW = 1;

/** Thrown when a worker process exits during start-up or does not poll in time. */
export class WorkerProcessError extends Error {
  readonly type = 'WorkerProcessError';
}

export interface WorkerProcessOptions {
  readonly temporalAddress: string;
  readonly namespace: string;
  readonly taskQueue: string;
  /** The audit database (`DATABASE_URL`). */
  readonly databaseUrl: string;
  /** The production database (`GATEHOUSE_PRODUCTION_DATABASE_URL`). */
  readonly productionDatabaseUrl: string;
  /** The keyset file the worker trusts (`GATEHOUSE_KEYS`). */
  readonly keysFile: string;
  /** The default policy file (`GATEHOUSE_POLICY`). @default the worker's own default */
  readonly policyFile?: string;
  /** A folder of named policies (`GATEHOUSE_POLICIES`). */
  readonly policiesDir?: string;
  /** A module exporting the tool catalogue (`GATEHOUSE_CATALOG`). @default the sample catalogue */
  readonly catalogModule?: string;
  /** The Gatehouse configuration file with the upstream MCP servers (`GATEHOUSE_CONFIG`). @default none */
  readonly configFile?: string;
  /** The worker's data folder (`GATEHOUSE_DATA_DIR`). @default the worker's own default */
  readonly dataDir?: string;
  /** The worker's client certificate and the server's CA (`TEMPORAL_TLS_*`). @default no TLS */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string; readonly serverName: string };
  /** The service the readiness check asks for the queue's pollers (a client's `workflowService`). */
  readonly workflowService: WorkflowService;
  /** A prebuilt workflow bundle file (`GATEHOUSE_WORKFLOW_BUNDLE`). @default bundled by the worker at start-up */
  readonly workflowBundleFile?: string;
  /** How long start-up may take. @default 180_000 */
  readonly timeoutMs?: number;
}

export interface WorkerProcess {
  readonly pid: number;
  /** The last few kilobytes of its output. */
  outputTail(): string;
  /** SIGKILL to the whole process group: no shutdown, no goodbye, as in a crash. */
  kill(): Promise<void>;
  /** SIGTERM (the worker drains), then SIGKILL after a grace period. */
  stop(): Promise<void>;
}

/** Spawns `worker/main.ts` and resolves once the server lists it as a poller of its task queue. */
export async function startWorkerProcess(o: WorkerProcessOptions): Promise<WorkerProcess> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: o.temporalAddress,
    TEMPORAL_NAMESPACE: o.namespace,
    GATEHOUSE_TASK_QUEUE: o.taskQueue,
    DATABASE_URL: o.databaseUrl,
    GATEHOUSE_PRODUCTION_DATABASE_URL: o.productionDatabaseUrl,
    GATEHOUSE_KEYS: o.keysFile,
    ...(o.policyFile !== undefined ? { GATEHOUSE_POLICY: o.policyFile } : {}),
    ...(o.policiesDir !== undefined ? { GATEHOUSE_POLICIES: o.policiesDir } : {}),
    ...(o.catalogModule !== undefined ? { GATEHOUSE_CATALOG: o.catalogModule } : {}),
    ...(o.dataDir !== undefined ? { GATEHOUSE_DATA_DIR: o.dataDir } : {}),
    ...(o.configFile !== undefined ? { GATEHOUSE_CONFIG: o.configFile } : {}),
    ...(o.workflowBundleFile !== undefined ? { GATEHOUSE_WORKFLOW_BUNDLE: o.workflowBundleFile } : {}),
    ...(o.tls
      ? { TEMPORAL_TLS_CERT: o.tls.certFile, TEMPORAL_TLS_KEY: o.tls.keyFile, TEMPORAL_TLS_CA: o.tls.caFile, TEMPORAL_TLS_SERVER_NAME: o.tls.serverName }
      : {}),
  };
  const proc = spawnGroup(process.execPath, ['--import', 'tsx', join(ROOT, 'worker', 'main.ts')], { cwd: ROOT, env });
  const identity = `${proc.pid}@${hostname()}`;
  const timeoutMs = o.timeoutMs ?? 180_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.hasExited()) throw new WorkerProcessError(`the worker process exited during start-up: ${proc.outputTail().trim()}`);
    const polling = await isPolling(o.workflowService, o.namespace, o.taskQueue, identity).catch(() => false);
    if (polling) break;
    if (Date.now() > deadline) {
      await proc.stop({ signal: 'SIGKILL', graceMs: 0 });
      throw new WorkerProcessError(`the worker process did not poll task queue \`${o.taskQueue}\` within ${timeoutMs} ms: ${proc.outputTail().trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    pid: proc.pid,
    outputTail: () => proc.outputTail(),
    kill: () => proc.stop({ signal: 'SIGKILL', graceMs: 0 }),
    stop: () => proc.stop({ signal: 'SIGTERM', graceMs: 10_000 }),
  };
}

async function isPolling(service: WorkflowService, namespace: string, taskQueue: string, identity: string): Promise<boolean> {
  const r = await service.describeTaskQueue({ namespace, taskQueue: { name: taskQueue }, taskQueueType: TASK_QUEUE_TYPE_WORKFLOW });
  return (r.pollers ?? []).some((p) => p.identity === identity);
}
