/**
 * The Temporal server's configuration, generated from code: persistence on PostgreSQL 12+ through
 * the `postgres12_pgx` plugin (history and visibility in two databases), the four services' ports,
 * and a dynamic config file. `gatehouse start --temporal server` and the tests render it with real
 * values; `deploy/temporal/config.yaml` (what docker-compose.yml mounts) is the same function
 * rendered with `{{ env "…" }}` placeholders the server fills in at start (`# enable-template`),
 * so the deployed file cannot drift from the tested one (test/compose checks it).
 */

/** A value, or a server-side template expression for the compose file. */
type Value = string | number;

export interface TemporalServerConfigOptions {
  readonly postgres: { readonly host: Value; readonly port: Value; readonly user: Value; readonly password: Value };
  /** History shards: fixed when the database is first set up, never changed after. */
  readonly numHistoryShards: Value;
  /** gRPC and membership ports of frontend, history, matching and worker, and the frontend's HTTP port. */
  readonly ports: TemporalServerPorts;
  /** Address the services bind (`127.0.0.1` locally, `0.0.0.0` in a container). */
  readonly bindIp: Value;
  /** Address the services announce to each other and the frontend's own clients. */
  readonly broadcastAddress: Value;
  readonly dynamicConfigFile: Value;
  /** @default 'warn' */
  readonly logLevel?: Value;
  /** Mutual TLS on the frontend and between the services; absent: plain TCP. */
  readonly tls?: TemporalServerTls;
}

/**
 * The server's certificate files: `server` for the frontend and internode traffic (both ways),
 * `systemWorker` for the server's own worker calling the frontend; client certificates must chain to `caFile`.
 */
export interface TemporalServerTls {
  readonly caFile: Value;
  readonly serverName: Value;
  readonly server: { readonly certFile: Value; readonly keyFile: Value };
  readonly systemWorker: { readonly certFile: Value; readonly keyFile: Value };
}

export interface TemporalServerPorts {
  readonly frontend: Value;
  readonly frontendHttp: Value;
  readonly frontendMembership: Value;
  readonly history: Value;
  readonly historyMembership: Value;
  readonly matching: Value;
  readonly matchingMembership: Value;
  readonly worker: Value;
  readonly workerMembership: Value;
}

/** Database names of the server's two stores. */
export const TEMPORAL_DATABASE = 'temporal';
export const TEMPORAL_VISIBILITY_DATABASE = 'temporal_visibility';

/** The server's dynamic config: search attributes visible as soon as they are added (as the dev server does). */
export const TEMPORAL_SERVER_DYNAMIC_CONFIG = `# Written by Gatehouse (worker/devstack/temporal-server-config.ts).
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
`;

/** Renders the server's YAML configuration. */
export function renderTemporalServerConfig(o: TemporalServerConfigOptions): string {
  const store = (database: string, maxConns: number) => `      sql:
        pluginName: "postgres12_pgx"
        databaseName: "${database}"
        connectAddr: "${o.postgres.host}:${o.postgres.port}"
        connectProtocol: "tcp"
        user: "${o.postgres.user}"
        password: "${o.postgres.password}"
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
  const service = (name: string, grpc: Value, membership: Value, http?: Value) => `  ${name}:
    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnIP: "${o.bindIp}"${http === undefined ? '' : `\n      httpPort: ${http}`}`;
  const p = o.ports;
  return `# enable-template
# Temporal server configuration written by Gatehouse (worker/devstack/temporal-server-config.ts).
log:
  stdout: true
  level: "${o.logLevel ?? 'warn'}"

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${o.numHistoryShards}
  datastores:
    postgres-default:
${store(TEMPORAL_DATABASE, 20)}
    postgres-visibility:
${store(TEMPORAL_VISIBILITY_DATABASE, 10)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "${o.broadcastAddress}"${o.tls ? renderTls(o.tls) : ''}

services:
${service('frontend', p.frontend, p.frontendMembership, p.frontendHttp)}
${service('history', p.history, p.historyMembership)}
${service('matching', p.matching, p.matchingMembership)}
${service('worker', p.worker, p.workerMembership)}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "${o.broadcastAddress}:${p.frontend}"

dcRedirectionPolicy:
  policy: "noop"

dynamicConfigClient:
  filepath: "${o.dynamicConfigFile}"
  pollInterval: "10s"
`;
}

/** `global.tls`: client certificates required on the frontend and between the services. */
function renderTls(t: TemporalServerTls): string {
  const server = `        certFile: "${t.server.certFile}"
        keyFile: "${t.server.keyFile}"
        requireClientAuth: true
        clientCaFiles: ["${t.caFile}"]`;
  const client = `        serverName: "${t.serverName}"
        rootCaFiles: ["${t.caFile}"]`;
  return `
  tls:
    internode:
      server:
${server}
      client:
${client}
    frontend:
      server:
${server}
      client:
${client}
    systemWorker:
      certFile: "${t.systemWorker.certFile}"
      keyFile: "${t.systemWorker.keyFile}"
      client:
${client}`;
}

/**
 * What `deploy/temporal/config.yaml` (docker-compose.yml's server configuration) is rendered from:
 * the database password and the container's own address come from the environment at start.
 */
export const COMPOSE_SERVER_CONFIG: TemporalServerConfigOptions = {
  postgres: { host: 'temporal-db', port: 5432, user: 'temporal', password: '{{ env "TEMPORAL_DB_PASSWORD" }}' },
  numHistoryShards: 512,
  ports: {
    frontend: 7233,
    frontendHttp: 7243,
    frontendMembership: 6933,
    history: 7234,
    historyMembership: 6934,
    matching: 7235,
    matchingMembership: 6935,
    worker: 7239,
    workerMembership: 6939,
  },
  bindIp: '0.0.0.0',
  broadcastAddress: '{{ env "TEMPORAL_BROADCAST_ADDRESS" }}',
  dynamicConfigFile: '/etc/temporal/gatehouse/dynamic-config.yaml',
  logLevel: 'info',
  // The certificates `deploy/make-temporal-certs.ts` makes, mounted read-only at /etc/temporal/tls.
  tls: {
    caFile: '/etc/temporal/tls/ca.pem',
    serverName: 'temporal.gatehouse.internal',
    server: { certFile: '/etc/temporal/tls/server.pem', keyFile: '/etc/temporal/tls/server.key' },
    systemWorker: { certFile: '/etc/temporal/tls/temporal-system-worker.pem', keyFile: '/etc/temporal/tls/temporal-system-worker.key' },
  },
};
