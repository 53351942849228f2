/**
 * Starts a real Temporal dev server (`temporal server start-dev`) on 127.0.0.1, registers the
 * Gatehouse search attributes, waits until the frontend answers, and stops it cleanly.
 *
 * Start-up never hangs: it fails with {@link TemporalServerStartError} when the process dies or
 * the frontend does not answer in time. A port chosen by the launcher that turns out taken is
 * retried on another free port; a port asked for explicitly fails with {@link PortTakenError}.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../workflows/contract';
import { freePort, isPortFree, LOCALHOST, PortTakenError } from './ports';
import { spawnGroup, type ManagedProcess } from './process-group';
import { findTemporalCli } from './temporal-binary';

export interface TemporalDevServerOptions {
  /** Path of the `temporal` binary. @default findTemporalCli() */
  readonly cliPath?: string;
  /** SQLite file that persists workflows across restarts. @default in memory */
  readonly dbFilename?: string;
  /** Frontend gRPC port. @default a free port */
  readonly port?: number;
  /** Web UI port; `false` runs headless. @default a free port */
  readonly uiPort?: number | false;
  /** Namespace to use (created at start when not `default`). @default 'default' */
  readonly namespace?: string;
  /** How long to wait for the frontend. @default 60_000 */
  readonly startTimeoutMs?: number;
  /** `--dynamic-config-value` settings; `{}` runs the dev server's own defaults. @default FAST_DEV_SERVER_CONFIG */
  readonly dynamicConfig?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * What `gatehouse start`, the test runner and the benchmarks run the dev server with. Its one
 * history shard loads transfer and timer tasks at most 20 times a second by default, and an
 * activity behind an update needs two such loads: every plain activity and every signal →
 * activity step then costs ≈ 100 ms of waiting that a production cluster (many shards, higher
 * limits) does not have. Eager activity execution hands an activity scheduled by a workflow task
 * straight back to the worker that completed it.
 */
export const FAST_DEV_SERVER_CONFIG: Readonly<Record<string, string | number | boolean>> = {
  'history.transferProcessorMaxPollRPS': 1000,
  'history.timerProcessorMaxPollRPS': 1000,
  'system.enableActivityEagerExecution': true,
};

export interface TemporalDevServer {
  /** `127.0.0.1:<port>` of the frontend. */
  readonly address: string;
  readonly namespace: string;
  readonly uiUrl?: string;
  readonly dbFilename?: string;
  readonly pid: number;
  /** SIGTERM, SIGKILL after a grace period; resolves once no process of its group is left. */
  stop(): Promise<void>;
  /** Lets Node exit while the server runs (it is then killed when Node exits). */
  unref(): void;
}

/** Thrown when the dev server exits or does not answer during start-up. */
export class TemporalServerStartError extends Error {
  readonly type = 'TemporalServerStartError';
  constructor(message: string, readonly output: string) {
    super(output ? `${message}: server output: ${output}` : message);
    this.name = 'TemporalServerStartError';
  }
}

/** The search attributes every session carries, as `--search-attribute` values. */
export const GATEHOUSE_SEARCH_ATTRIBUTES: Readonly<Record<string, string>> = {
  [SEARCH_ATTRIBUTES.agentId]: 'Keyword',
  [SEARCH_ATTRIBUTES.owner]: 'Keyword',
  [SEARCH_ATTRIBUTES.mode]: 'Keyword',
  [SEARCH_ATTRIBUTES.tools]: 'KeywordList',
};

const MAX_ATTEMPTS = 3;

/** Starts a dev server and resolves once its frontend answers and the search attributes exist. */
export async function startTemporalDevServer(options: TemporalDevServerOptions = {}): Promise<TemporalDevServer> {
  const cliPath = options.cliPath ?? (await findTemporalCli());
  const namespace = options.namespace ?? 'default';
  if (options.dbFilename) await mkdir(dirname(options.dbFilename), { recursive: true });

  for (let attempt = 1; ; attempt++) {
    const port = await pickPort(options.port, 'the temporal frontend');
    const uiPort = options.uiPort === false ? false : await pickPort(options.uiPort, 'the temporal web ui');
    try {
      return await launch(cliPath, { ...options, namespace, port, uiPort });
    } catch (err) {
      // A port we picked can be grabbed by someone else between the check and the bind: pick again.
      const chosePorts = options.port === undefined && (options.uiPort === undefined || options.uiPort === false);
      if (attempt < MAX_ATTEMPTS && chosePorts && err instanceof TemporalServerStartError && /address already in use/i.test(err.output)) {
        continue;
      }
      throw err;
    }
  }
}

async function pickPort(wanted: number | undefined, what: string): Promise<number> {
  if (wanted === undefined) return freePort();
  if (!(await isPortFree(wanted))) throw new PortTakenError(wanted, what);
  return wanted;
}

async function launch(
  cliPath: string,
  opts: TemporalDevServerOptions & { namespace: string; port: number; uiPort: number | false },
): Promise<TemporalDevServer> {
  const args = ['server', 'start-dev', '--ip', LOCALHOST, '--port', String(opts.port)];
  if (opts.uiPort === false) args.push('--headless');
  else args.push('--ui-port', String(opts.uiPort));
  if (opts.dbFilename) args.push('--db-filename', opts.dbFilename);
  if (opts.namespace !== 'default') args.push('--namespace', opts.namespace);
  for (const [name, type] of Object.entries(GATEHOUSE_SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  for (const [key, value] of Object.entries(opts.dynamicConfig ?? FAST_DEV_SERVER_CONFIG)) args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  args.push('--log-level', 'warn', '--color', 'never');

  const proc = spawnGroup(cliPath, args, { env: { ...process.env } });
  const address = `${LOCALHOST}:${opts.port}`;
  try {
    await waitUntilReady(proc, address, opts.namespace, opts.startTimeoutMs ?? 60_000);
  } catch (err) {
    await proc.stop({ graceMs: 2000 });
    throw err;
  }
  return {
    address,
    namespace: opts.namespace,
    uiUrl: opts.uiPort === false ? undefined : `http://${LOCALHOST}:${opts.uiPort}`,
    dbFilename: opts.dbFilename,
    pid: proc.pid,
    stop: () => proc.stop({ graceMs: 10_000 }),
    unref: () => proc.unref(),
  };
}

/** Polls the frontend (system info, then the search attributes) until ready, dead, or timed out. */
async function waitUntilReady(proc: ManagedProcess, address: string, namespace: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  const dead = proc.exited.then(({ code, signal }) => {
    throw new TemporalServerStartError(`temporal dev server exited during start-up (${signal ?? `exit ${code}`})`, proc.outputTail());
  });
  dead.catch(() => undefined);
  while (Date.now() < deadline) {
    if (proc.hasExited()) await dead;
    const ready = await Promise.race([probe(address, namespace).catch((err: unknown) => {
      lastError = err instanceof Error ? err.message : String(err);
      return false;
    }), dead]);
    if (ready) return;
    await Promise.race([sleep(200), dead]);
  }
  throw new TemporalServerStartError(
    `temporal dev server at \`${address}\` did not answer within ${timeoutMs} ms: last error: ${lastError}`,
    proc.outputTail(),
  );
}

async function probe(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: '1s' });
  try {
    await connection.workflowService.getSystemInfo({});
    // The CLI registers search attributes after the frontend is up; wait for them too.
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    return Object.keys(GATEHOUSE_SEARCH_ATTRIBUTES).every((name) => customAttributes?.[name] !== undefined);
  } finally {
    await connection.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
