/**
 * The Temporal part of `gatehouse start`: the deployment `TEMPORAL_ADDRESS` names, or an embedded
 * server — the CLI's dev server on `.data/temporal.sqlite` (the default, with its Web UI), or with
 * `--temporal server` the full Temporal server on the stack's embedded PostgreSQL (databases
 * `temporal` and `temporal_visibility`, configuration under `.data/temporal-server/`). Both keep
 * every session across a stop and a restart.
 *
 * The dev server cannot do TLS: any local process can drive its namespace (the banner says so).
 * The full server requires mutual TLS: a CA and certificates made once under `.data/temporal-tls/`
 * (temporal-tls.ts), one client certificate per Gatehouse process role, named in the stack file.
 */
import { join } from 'node:path';
import type { StackFile } from '../../client/config';
import { isPortFree, LOCALHOST, preferredPort } from './ports';
import { findTemporalCli } from './temporal-binary';
import { freeServerPort, startTemporalFullServer } from './temporal-full-server';
import { findTemporalServer } from './temporal-server-binary';
import { startTemporalDevServer } from './temporal-server';
import { ensureTemporalTls } from './temporal-tls';

/** Which embedded Temporal `gatehouse start` runs. */
export type TemporalKind = 'dev' | 'server';
export const TEMPORAL_KINDS: readonly TemporalKind[] = ['dev', 'server'];

/** Thrown when `--temporal server` cannot run in this configuration. */
export class StackTemporalError extends Error {
  readonly type = 'StackTemporalError';
}

export interface StackTemporalOptions {
  readonly kind: TemporalKind;
  readonly env: NodeJS.ProcessEnv;
  readonly dataDir: string;
  readonly namespace: string;
  /** The embedded PostgreSQL (superuser and password): required for the full server, which keeps its state there. */
  readonly postgres?: { readonly port: number; readonly user: string; readonly password: string };
  readonly temporalPort?: number;
  readonly uiPort?: number;
  readonly log: (line: string) => void;
}

export interface StackTemporal {
  readonly temporal: StackFile['temporal'];
  readonly parts: readonly { name: string; where: string }[];
  stop(): Promise<void>;
}

/** Starts the embedded Temporal of the kind asked for. */
export async function startStackTemporal(o: StackTemporalOptions): Promise<StackTemporal> {
  if (o.kind === 'server') return startFullServer(o);
  const cliPath = await findTemporalCli({ env: o.env, log: o.log });
  o.log('gatehouse: starting the temporal dev server');
  const dbFilename = join(o.dataDir, 'temporal.sqlite');
  const server = await startTemporalDevServer({
    cliPath,
    dbFilename,
    port: await preferredPort(o.temporalPort ?? 7233),
    uiPort: await preferredPort(o.uiPort ?? 8233),
    namespace: o.namespace,
  });
  const parts = [{ name: 'temporal', where: `${server.address} (dev server, pid ${server.pid}, state ${dbFilename})` }];
  if (server.uiUrl) parts.push({ name: 'temporal web ui', where: server.uiUrl });
  parts.push({ name: 'temporal access', where: DEV_SERVER_ACCESS });
  return { temporal: { address: server.address, namespace: server.namespace, ...(server.uiUrl ? { uiUrl: server.uiUrl } : {}), embedded: true }, parts, stop: () => server.stop() };
}

/** The dev server's limit, in the banner: it has no TLS, so the namespace is open to the machine. */
export const DEV_SERVER_ACCESS = 'no tls: any local process can drive the dev server; `--temporal server` isolates the namespace with mutual tls';

async function startFullServer(o: StackTemporalOptions): Promise<StackTemporal> {
  if (o.postgres === undefined) {
    throw new StackTemporalError('`--temporal server` keeps its state in the embedded postgres: unset `DATABASE_URL`, or run your own temporal server and set `TEMPORAL_ADDRESS`');
  }
  const binaries = await findTemporalServer({ env: o.env, log: o.log });
  const tlsDir = join(o.dataDir, 'temporal-tls');
  const tls = await ensureTemporalTls(tlsDir);
  if (tls.created.length > 0) o.log(`gatehouse: temporal certificates made in ${tlsDir}: ${tls.created.join(', ')}`);
  o.log('gatehouse: setting up the temporal schema and starting the temporal server (mutual tls)');
  const server = await startTemporalFullServer({
    binaries,
    postgres: { host: LOCALHOST, port: o.postgres.port, user: o.postgres.user, password: o.postgres.password },
    // The stack registers the namespace as the operator's cli would.
    tls: { ...tls, admin: tls.clients.cli },
    stateDir: join(o.dataDir, 'temporal-server'),
    ports: { frontend: (await isPortFree(o.temporalPort ?? 7233)) ? (o.temporalPort ?? 7233) : await freeServerPort() },
    namespace: o.namespace,
  });
  const parts = [
    { name: 'temporal', where: `${server.address} (server, postgresql)` },
    { name: 'temporal access', where: `mutual tls: a client certificate of the ca in ${tlsDir} required (one per gatehouse process role)` },
    { name: 'temporal state', where: `databases temporal (schema ${server.schema.temporal}), temporal_visibility (schema ${server.schema.temporal_visibility}); pid ${server.pid}, config ${server.configFile}` },
    // Its Web UI runs later, with the console that serves it (stack-temporal-ui.ts).
  ];
  const files = { caFile: tls.caFile, serverName: tls.serverName, clients: tls.clients };
  return { temporal: { address: server.address, namespace: server.namespace, embedded: true, tls: files }, parts, stop: () => server.stop() };
}
