/**
 * A Gatehouse worker the demo runs itself, as a child process (`node --import tsx worker/main.ts`)
 * on a task queue of its own, so that killing it cannot disturb the stack's own worker. It trusts
 * the stack's keyset (`GATEHOUSE_KEYS`) and loads the named policies of `policiesDir`
 * (`GATEHOUSE_POLICIES`). Ready means: the Temporal server lists a poller with this process's
 * identity on that queue.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { spawnGroup, type ManagedProcess } from '../worker/devstack/process-group';
import type { DemoConfig } from './types';
import { sleep } from './wait';

const ROOT = join(__dirname, '..');
/** Temporal's enum value for workflow task queues. */
const TASK_QUEUE_TYPE_WORKFLOW = 1;

/** Thrown when the demo's worker exits or does not poll in time. */
export class DemoWorkerError extends Error {
  readonly type = 'DemoWorkerError';
}

export interface DemoWorker {
  readonly pid: number;
  /** SIGKILL to the whole process group: no shutdown, no goodbye, as in a crash. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void>;
}

export async function startDemoWorker(config: DemoConfig, taskQueue: string, temporal: Client, policiesDir: string, timeoutMs = 180_000): Promise<DemoWorker> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: config.temporalAddress,
    TEMPORAL_NAMESPACE: config.namespace,
    GATEHOUSE_TASK_QUEUE: taskQueue,
    DATABASE_URL: config.databaseUrl,
    GATEHOUSE_PRODUCTION_DATABASE_URL: config.productionDatabaseUrl,
    GATEHOUSE_KEYS: config.keysetFile,
    GATEHOUSE_POLICIES: policiesDir,
  };
  const proc = spawnGroup(process.execPath, ['--import', 'tsx', join(ROOT, 'worker', 'main.ts')], { cwd: ROOT, env });
  const identity = `${proc.pid}@${hostname()}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.hasExited()) throw new DemoWorkerError(`the demo worker exited during start-up: ${proc.outputTail().trim()}`);
    const polling = await isPolling(temporal, config.namespace, taskQueue, identity).catch(() => false);
    if (polling) break;
    if (Date.now() > deadline) {
      await proc.stop({ signal: 'SIGKILL', graceMs: 0 });
      throw new DemoWorkerError(`the demo worker did not poll task queue \`${taskQueue}\` within ${timeoutMs} ms: ${proc.outputTail().trim()}`);
    }
    await sleep(250);
  }
  return wrap(proc);
}

function wrap(proc: ManagedProcess): DemoWorker {
  return {
    pid: proc.pid,
    kill: () => proc.stop({ signal: 'SIGKILL', graceMs: 0 }),
    stop: () => proc.stop({ signal: 'SIGTERM', graceMs: 10_000 }),
  };
}

async function isPolling(temporal: Client, namespace: string, taskQueue: string, identity: string): Promise<boolean> {
  const r = await temporal.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (r.pollers ?? []).some((p) => p.identity === identity);
}
