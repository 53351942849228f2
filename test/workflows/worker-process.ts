/**
 * A Gatehouse worker in its own process (`worker/main.ts`, configured by environment only), for
 * the durability tests: they kill it with SIGKILL mid-call and start another.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface WorkerProcessOptions {
  readonly temporalAddress: string;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly databaseUrl: string;
  readonly productionDatabaseUrl: string;
  readonly policyFile: string;
  readonly catalogModule: string;
  /** The keyset file the worker trusts (`GATEHOUSE_KEYS`). */
  readonly keysFile: string;
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Spawns `worker/main.ts` and resolves once it polls its task queue. */
export async function startWorkerProcess(o: WorkerProcessOptions): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'worker', 'main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: o.temporalAddress,
      TEMPORAL_NAMESPACE: o.namespace,
      GATEHOUSE_TASK_QUEUE: o.taskQueue,
      DATABASE_URL: o.databaseUrl,
      GATEHOUSE_PRODUCTION_DATABASE_URL: o.productionDatabaseUrl,
      GATEHOUSE_POLICY: o.policyFile,
      GATEHOUSE_CATALOG: o.catalogModule,
      GATEHOUSE_KEYS: o.keysFile,
      GATEHOUSE_DATA_DIR: join(ROOT, '.data', 'test-no-stack'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.includes('gatehouse worker: polling')) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`worker process exited with ${code} before polling: ${out.slice(-2000)}`));
    });
  });
  return {
    child,
    output: () => out,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
