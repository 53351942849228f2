/**
 * Runs the full Temporal server (`temporal-server`, the production binary, not the CLI's dev
 * server) on PostgreSQL: schema set up and upgraded with the schema tool, configuration generated
 * into `stateDir`, every service bound to 127.0.0.1 on free ports, then the namespace registered
 * and the Gatehouse search attributes added through the operator service.
 *
 * Start-up never hangs: it fails with {@link TemporalServerStartError} when the process dies or the
 * frontend does not answer in time. There is no Web UI: the UI is a separate product the dev server
 * bundles; against this server use the `temporal` CLI (`temporal workflow list --address …`).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Connection, type TLSConfig } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';

type AddSearchAttributesRequest = Parameters<Connection['operatorService']['addSearchAttributes']>[0];
import { randomInt } from 'node:crypto';
import { isPortFree, LOCALHOST } from './ports';
import { spawnGroup, type ManagedProcess } from './process-group';
import { findTemporalServer, type TemporalServerBinaries } from './temporal-server-binary';
import { renderTemporalServerConfig, TEMPORAL_SERVER_DYNAMIC_CONFIG, type TemporalServerPorts, type TemporalServerTls } from './temporal-server-config';
import { setUpTemporalSchema, type PostgresTarget } from './temporal-schema';
import { GATEHOUSE_SEARCH_ATTRIBUTES, TemporalServerStartError } from './temporal-server';

export interface TemporalFullServerOptions {
  /** @default findTemporalServer() */
  readonly binaries?: TemporalServerBinaries;
  /** The PostgreSQL that holds the server's `temporal` and `temporal_visibility` databases. */
  readonly postgres: PostgresTarget;
  /** Folder for the generated configuration files. */
  readonly stateDir: string;
  /** Ports to reuse (a restart keeps its address). @default free ports */
  readonly ports?: Partial<TemporalServerPorts>;
  /** @default 'default' */
  readonly namespace?: string;
  /** How long to wait for the frontend, namespace and search attributes. @default 120_000 */
  readonly startTimeoutMs?: number;
  /** History shards, fixed at the first start on a database. @default 4 */
  readonly numHistoryShards?: number;
  /**
   * Mutual TLS (`temporal-tls.ts`): the frontend refuses callers without a certificate of the CA;
   * `admin` is the client certificate start-up registers the namespace with. Absent: plain TCP.
   */
  readonly tls?: TemporalServerTls & { readonly caFile: string; readonly serverName: string; readonly admin: { readonly certFile: string; readonly keyFile: string } };
}

/** What the start-up probes connect with: the admin certificate and the CA. */
type ProbeTls = TLSConfig;

export interface TemporalFullServer {
  /** `127.0.0.1:<port>` of the frontend. */
  readonly address: string;
  readonly namespace: string;
  readonly pid: number;
  readonly ports: TemporalServerPorts;
  readonly configFile: string;
  /** True when the frontend requires client certificates. */
  readonly mutualTls: boolean;
  /** Schema versions of the two databases. */
  readonly schema: Readonly<Record<string, string>>;
  /** SIGTERM (the server drains), SIGKILL after a grace period. */
  stop(): Promise<void>;
  /** SIGKILL, as in a crash. */
  kill(): Promise<void>;
}

/** Namespace retention the server is registered with (the dev server's default too). */
const RETENTION = '7 days';

/** Sets up the schema, starts the server, registers namespace and search attributes. */
export async function startTemporalFullServer(o: TemporalFullServerOptions): Promise<TemporalFullServer> {
  const binaries = o.binaries ?? (await findTemporalServer());
  const namespace = o.namespace ?? 'default';
  const schema = await setUpTemporalSchema(binaries, o.postgres);
  const ports = await pickPorts(o.ports ?? {});
  await mkdir(o.stateDir, { recursive: true });
  const configFile = join(o.stateDir, 'temporal-server.yaml');
  const dynamicConfigFile = join(o.stateDir, 'temporal-dynamic-config.yaml');
  await writeFile(dynamicConfigFile, TEMPORAL_SERVER_DYNAMIC_CONFIG);
  const config = renderTemporalServerConfig({ postgres: o.postgres, numHistoryShards: o.numHistoryShards ?? 4, ports, bindIp: LOCALHOST, broadcastAddress: LOCALHOST, dynamicConfigFile, ...(o.tls ? { tls: o.tls } : {}) });
  const probeTls: ProbeTls | undefined = o.tls
    ? {
        serverRootCACertificate: await readFile(o.tls.caFile),
        serverNameOverride: o.tls.serverName,
        clientCertPair: { crt: await readFile(o.tls.admin.certFile), key: await readFile(o.tls.admin.keyFile) },
      }
    : undefined;
  // The file holds the database password: readable by its owner only.
  await writeFile(configFile, config, { mode: 0o600 });

  const proc = spawnGroup(binaries.server, ['--config-file', configFile, '--allow-no-auth', 'start'], { env: { ...process.env } });
  const address = `${LOCALHOST}:${ports.frontend}`;
  try {
    await waitUntilReady(proc, address, namespace, o.startTimeoutMs ?? 120_000, probeTls);
  } catch (err) {
    await proc.stop({ signal: 'SIGKILL', graceMs: 0 });
    throw err;
  }
  return {
    address,
    namespace,
    pid: proc.pid,
    ports,
    configFile,
    mutualTls: o.tls !== undefined,
    schema,
    stop: () => proc.stop({ signal: 'SIGTERM', graceMs: 20_000 }),
    kill: () => proc.stop({ signal: 'SIGKILL', graceMs: 0 }),
  };
}

/**
 * The server stores its services' ports in a SMALLINT column (`cluster_membership.rpc_port`): a
 * port from the OS's ephemeral range (32768 and up) fails membership at start-up. Ports are
 * therefore drawn from 20000–32767 and checked free.
 */
const PORT_RANGE = { min: 20_000, max: 32_767 } as const;

async function pickPorts(given: Partial<TemporalServerPorts>): Promise<TemporalServerPorts> {
  const names = ['frontend', 'frontendHttp', 'frontendMembership', 'history', 'historyMembership', 'matching', 'matchingMembership', 'worker', 'workerMembership'] as const;
  const picked: Partial<Record<(typeof names)[number], number | string>> = {};
  const used = new Set<number>(Object.values(given).filter((p): p is number => typeof p === 'number'));
  for (const name of names) {
    let port = given[name];
    while (port === undefined) {
      const candidate = PORT_RANGE.min + randomInt(PORT_RANGE.max - PORT_RANGE.min + 1);
      if (!used.has(candidate) && (await isPortFree(candidate))) port = candidate;
    }
    if (typeof port === 'number') used.add(port);
    picked[name] = port;
  }
  return picked as TemporalServerPorts;
}

/** A free port the server can store (below 32768), for callers choosing the frontend port. */
export async function freeServerPort(): Promise<number> {
  return (await pickPorts({})).frontend as number;
}

/** Polls until the frontend answers, then makes sure the namespace and the search attributes exist. */
async function waitUntilReady(proc: ManagedProcess, address: string, namespace: string, timeoutMs: number, tls: ProbeTls | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  const dead = proc.exited.then(({ code, signal }) => {
    throw new TemporalServerStartError(`temporal server exited during start-up (${signal ?? `exit ${code}`})`, proc.outputTail());
  });
  dead.catch(() => undefined);
  while (Date.now() < deadline) {
    if (proc.hasExited()) await dead;
    const ready = await Promise.race([
      ensureNamespace(address, namespace, tls).catch((err: unknown) => {
        lastError = err instanceof Error ? err.message : String(err);
        return false;
      }),
      dead,
    ]);
    if (ready) return;
    await Promise.race([new Promise((resolve) => setTimeout(resolve, 500)), dead]);
  }
  throw new TemporalServerStartError(`temporal server at \`${address}\` was not ready within ${timeoutMs} ms: last error: ${lastError}`, proc.outputTail());
}

/** Registers the namespace and adds the search attributes when missing; true once both are visible. */
async function ensureNamespace(address: string, namespace: string, tls: ProbeTls | undefined): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: '2s', ...(tls ? { tls } : {}) });
  try {
    await connection.workflowService.getSystemInfo({});
    const known = await connection.workflowService.describeNamespace({ namespace }).then(
      () => true,
      (err: unknown) => (isNotFound(err) ? false : Promise.reject(err)),
    );
    if (!known) {
      await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(RETENTION) });
      return false;
    }
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = Object.entries(GATEHOUSE_SEARCH_ATTRIBUTES).filter(([name]) => customAttributes?.[name] === undefined);
    if (missing.length === 0) return true;
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, INDEXED_VALUE_TYPES[type]])) as AddSearchAttributesRequest['searchAttributes'],
    });
    return false;
  } finally {
    await connection.close();
  }
}

/** `temporal.api.enums.v1.IndexedValueType` numbers of the types Gatehouse uses. */
const INDEXED_VALUE_TYPES: Readonly<Record<string, number>> = { Keyword: 2, KeywordList: 7 };

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === 5;
}
