/**
 * Where Gatehouse's parts live, read from the environment and, for what the environment leaves
 * out, from the stack file a running `gatehouse start` writes (`.data/stack.json`).
 *
 * | variable | meaning | without it |
 * | --- | --- | --- |
 * | `TEMPORAL_ADDRESS` | Temporal frontend `host:port` | the running stack's, else `127.0.0.1:7233` |
 * | `TEMPORAL_NAMESPACE` | namespace | the stack's, else `default` |
 * | `GATEHOUSE_TASK_QUEUE` | task queue of the worker | `gatehouse` |
 * | `DATABASE_URL` | PostgreSQL of the audit trail | the stack's `gatehouse` database |
 * | `GATEHOUSE_PRODUCTION_DATABASE_URL` | the sample tools' "production" database | the stack's `gatehouse_production` |
 * | `SLACK_BOT_TOKEN`, `SLACK_SIGNING_SECRET` | the Slack approvals app (HTTP mode) | approvals by CLI only |
 * | `SLACK_APP_TOKEN` | Socket Mode instead of an HTTP endpoint | HTTP mode |
 * | `SLACK_PORT` | port of the approvals app's HTTP endpoint | `3000` |
 * | `SLACK_API_URL` | Slack Web API base URL (tests point it at a local fake) | Slack's |
 * | `GATEHOUSE_STACK_FILE` | where the stack file is | `<project>/.data/stack.json` |
 * | `TEMPORAL_TLS_CERT`, `TEMPORAL_TLS_KEY` | this process's mTLS client certificate and key | the stack's certificate for the process's role |
 * | `TEMPORAL_TLS_CA` | CA certificate the server's certificate must chain to | the stack's CA, else the system's roots |
 * | `TEMPORAL_TLS_SERVER_NAME` | name checked against the server's certificate | the stack's, else the address's host |
 * | `GATEHOUSE_ENV` | `development` or `production` (any case, spaces around ignored; anything else is refused), read by {@link deploymentEnv} | development |
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TASK_QUEUE } from '../workflows/contract';
import { redactUrl } from './redact-url';

/** Settings of the Slack approvals app. */
export interface SlackConfig {
  readonly botToken: string;
  readonly signingSecret?: string;
  readonly appToken?: string;
  /** True when `SLACK_APP_TOKEN` is set: connect over Socket Mode, no public endpoint needed. */
  readonly socketMode: boolean;
  readonly port: number;
  readonly apiUrl?: string;
}

export interface GatehouseConfig {
  readonly temporalAddress: string;
  readonly namespace: string;
  readonly taskQueue: string;
  /** The audit database; absent when neither `DATABASE_URL` nor a running stack gives one. */
  readonly databaseUrl?: string;
  /** The sample tools' production database; absent like `databaseUrl`. */
  readonly productionDatabaseUrl?: string;
  /** Present when `SLACK_BOT_TOKEN` is set. */
  readonly slack?: SlackConfig;
  /** The running stack's file, when one was read. */
  readonly stack?: StackFile;
  /** mTLS client certificate and key files (`TEMPORAL_TLS_CERT`, `TEMPORAL_TLS_KEY`). */
  readonly temporalTls?: { readonly certPath: string; readonly keyPath: string };
  /** The server's CA and the name its certificate carries (`TEMPORAL_TLS_CA`, `TEMPORAL_TLS_SERVER_NAME`). */
  readonly temporalServerTls?: { readonly caPath?: string; readonly serverName?: string };
  /** A Temporal Cloud API key (`TEMPORAL_API_KEY`); TLS is on with it. */
  readonly temporalApiKey?: string;
}

/**
 * The Gatehouse processes that connect to Temporal, each with a client certificate of its own in
 * the production shape (`gatehouse start --temporal server`).
 */
export const TEMPORAL_CLIENT_ROLES = ['worker', 'gateway', 'cli', 'approvals', 'bench'] as const;
export type TemporalClientRole = (typeof TEMPORAL_CLIENT_ROLES)[number];

/** What a stack with mutual TLS tells its processes: the CA, the server name, each role's certificate. */
export interface TemporalTlsFiles {
  readonly caFile: string;
  readonly serverName: string;
  readonly clients: Readonly<Record<TemporalClientRole, { readonly certFile: string; readonly keyFile: string }>>;
}

/** The TLS and API-key part of a Temporal connection, for `Connection` and `NativeConnection` alike. */
export interface TemporalSecurity {
  readonly tls?:
    | true
    | {
        readonly clientCertPair?: { readonly crt: Buffer; readonly key: Buffer };
        readonly serverRootCACertificate?: Buffer;
        readonly serverNameOverride?: string;
      };
  readonly apiKey?: string;
}

/**
 * The TLS settings a process of `role` connects with: `TEMPORAL_TLS_*` when set, else the running
 * stack's certificate for that role (a stack with mutual TLS), else none; an API key turns TLS on.
 */
export function temporalSecurity(config: Pick<GatehouseConfig, 'temporalTls' | 'temporalServerTls' | 'temporalApiKey' | 'stack' | 'temporalAddress'>, role: TemporalClientRole = 'cli'): TemporalSecurity {
  // The stack's certificates only for the stack's own server, never for a `TEMPORAL_ADDRESS` elsewhere.
  const stackTls = config.stack?.temporal.address === config.temporalAddress ? config.stack?.temporal.tls : undefined;
  return security(config, stackTls, role);
}

/**
 * Why a service may not connect with `security` in production (`GATEHOUSE_ENV=production`), or
 * undefined: without a client certificate or an API key anyone who reaches the namespace drives
 * sessions and polls the task queue, an agent included. `GATEHOUSE_ALLOW_INSECURE_TEMPORAL=1` says
 * a plaintext, unauthenticated connection is meant (a private network the operator vouches for).
 */
export function insecureTemporalInProduction(security: TemporalSecurity, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (deploymentEnv(env.GATEHOUSE_ENV) !== 'production' || env.GATEHOUSE_ALLOW_INSECURE_TEMPORAL === '1') return undefined;
  const tls = security.tls;
  if (security.apiKey || (typeof tls === 'object' && tls.clientCertPair)) return undefined;
  return '`GATEHOUSE_ENV=production` connects to Temporal only with a client certificate (`TEMPORAL_TLS_CERT`, `TEMPORAL_TLS_KEY`, `TEMPORAL_TLS_CA`) or an API key (`TEMPORAL_API_KEY`): set them, or `GATEHOUSE_ALLOW_INSECURE_TEMPORAL=1` to accept a plaintext connection knowingly';
}

/** The security of a stack's own process from its certificate set (no environment involved). */
export function stackTemporalSecurity(tls: TemporalTlsFiles | undefined, role: TemporalClientRole): TemporalSecurity {
  return tls ? security({}, tls, role) : {};
}

function security(config: Pick<GatehouseConfig, 'temporalTls' | 'temporalServerTls' | 'temporalApiKey'>, stackTls: TemporalTlsFiles | undefined, role: TemporalClientRole): TemporalSecurity {
  const apiKey = config.temporalApiKey;
  const pair = config.temporalTls ?? (stackTls ? { certPath: stackTls.clients[role].certFile, keyPath: stackTls.clients[role].keyFile } : undefined);
  const caPath = config.temporalServerTls?.caPath ?? stackTls?.caFile;
  const serverName = config.temporalServerTls?.serverName ?? stackTls?.serverName;
  if (!pair && !caPath && !serverName) return apiKey ? { tls: true, apiKey } : {};
  const tls = {
    ...(pair ? { clientCertPair: { crt: read('TEMPORAL_TLS_CERT', pair.certPath), key: read('TEMPORAL_TLS_KEY', pair.keyPath) } } : {}),
    ...(caPath ? { serverRootCACertificate: read('TEMPORAL_TLS_CA', caPath) } : {}),
    ...(serverName ? { serverNameOverride: serverName } : {}),
  };
  return { tls, ...(apiKey ? { apiKey } : {}) };
}

function read(name: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`cannot read \`${name}\` file \`${path}\`: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** What `gatehouse start` writes while it runs, and removes on exit. */
export interface StackFile {
  readonly pid: number;
  readonly startedAt: string;
  readonly temporal: {
    readonly address: string;
    readonly namespace: string;
    readonly uiUrl?: string;
    readonly embedded: boolean;
    /** Mutual TLS of `--temporal server`: each process connects with its role's certificate. */
    readonly tls?: TemporalTlsFiles;
  };
  readonly taskQueue: string;
  readonly databaseUrl: string;
  readonly productionDatabaseUrl: string;
  readonly postgres?: { readonly port: number; readonly dataDir: string };
  readonly approvals?: { readonly url?: string; readonly socketMode: boolean };
  /** The keyset the worker trusts and, on a development stack, its generated operator key. */
  readonly keys?: { readonly keysetFile: string; readonly developmentOperatorKey?: string; readonly keyDir?: string };
  /** Names of the policies the stack's worker loaded (what `policyRef` and `--policy` may name). */
  readonly policyNames?: readonly string[];
  /** The gateway agents use (HTTP API under `/v1`, MCP at `mcpUrl`). */
  readonly gateway?: { readonly url: string; readonly mcpUrl?: string };
  /** The people's console (passkey sign-in, approvals inbox). */
  readonly console?: { readonly url: string };
}

/** Thrown when a variable is set to something unusable. */
export class ConfigError extends Error {
  readonly type = 'ConfigError';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** What a deployment runs as: `production` refuses development keys and a plaintext Temporal connection. */
export type DeploymentEnv = 'development' | 'production';

/**
 * Reads `GATEHOUSE_ENV` (pass its value): unset or empty is `development`; otherwise `development` or
 * `production`, trimmed and in any case. Anything else throws a `ConfigError`, so a misspelt
 * production (`prod`) cannot quietly switch the production checks off.
 */
export function deploymentEnv(value: string | undefined): DeploymentEnv {
  if (value === undefined || value === '') return 'development';
  const v = value.trim().toLowerCase();
  if (v === 'development' || v === 'production') return v;
  const shown = JSON.stringify(value.slice(0, 60)).slice(1, -1);
  throw new ConfigError(`\`GATEHOUSE_ENV\` must be \`development\` or \`production\` (unset means development), got \`${shown}\``);
}

/** Project root (this file lives in `client/`). */
export const PROJECT_ROOT = join(__dirname, '..');

/** The example policy: what `gatehouse start`, the worker and the demo enforce unless told otherwise. */
export const DEFAULT_POLICY_FILE = join(PROJECT_ROOT, 'policies', 'examples', 'production.yaml');

/** Default folder of the embedded stack's state (git-ignored). */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.GATEHOUSE_DATA_DIR || join(PROJECT_ROOT, '.data');
}

/** Path of the stack file. */
export function stackFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.GATEHOUSE_STACK_FILE || join(dataDir(env), 'stack.json');
}

/** The stack file when a live `gatehouse start` wrote it; a file left by a dead process is ignored. */
export function readStackFile(env: NodeJS.ProcessEnv = process.env): StackFile | undefined {
  let parsed: StackFile;
  try {
    parsed = JSON.parse(readFileSync(stackFilePath(env), 'utf8')) as StackFile;
  } catch {
    return undefined;
  }
  if (typeof parsed?.pid !== 'number' || !isAlive(parsed.pid)) return undefined;
  return parsed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads the configuration: each value from the environment, else the running stack, else a default. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatehouseConfig {
  const stack = readStackFile(env);
  const temporalAddress = env.TEMPORAL_ADDRESS || stack?.temporal.address || '127.0.0.1:7233';
  if (!/^[^\s:/]+:\d+$/.test(temporalAddress) && !/^\[[^\]]+\]:\d+$/.test(temporalAddress)) {
    throw new ConfigError(`\`TEMPORAL_ADDRESS\` must be host:port, got \`${temporalAddress}\``);
  }
  return {
    temporalAddress,
    namespace: env.TEMPORAL_NAMESPACE || stack?.temporal.namespace || 'default',
    taskQueue: env.GATEHOUSE_TASK_QUEUE || stack?.taskQueue || DEFAULT_TASK_QUEUE,
    databaseUrl: url('DATABASE_URL', env.DATABASE_URL) ?? stack?.databaseUrl,
    productionDatabaseUrl: url('GATEHOUSE_PRODUCTION_DATABASE_URL', env.GATEHOUSE_PRODUCTION_DATABASE_URL) ?? stack?.productionDatabaseUrl,
    slack: slackConfig(env),
    stack,
    ...temporalAuth(env),
  };
}

function temporalAuth(env: NodeJS.ProcessEnv): Pick<GatehouseConfig, 'temporalTls' | 'temporalServerTls' | 'temporalApiKey'> {
  const certPath = env.TEMPORAL_TLS_CERT || undefined;
  const keyPath = env.TEMPORAL_TLS_KEY || undefined;
  if (Boolean(certPath) !== Boolean(keyPath)) throw new ConfigError('`TEMPORAL_TLS_CERT` and `TEMPORAL_TLS_KEY` go together: set both or neither');
  return {
    ...(certPath && keyPath ? { temporalTls: { certPath, keyPath } } : {}),
    ...(env.TEMPORAL_TLS_CA || env.TEMPORAL_TLS_SERVER_NAME
      ? { temporalServerTls: { ...(env.TEMPORAL_TLS_CA ? { caPath: env.TEMPORAL_TLS_CA } : {}), ...(env.TEMPORAL_TLS_SERVER_NAME ? { serverName: env.TEMPORAL_TLS_SERVER_NAME } : {}) } }
      : {}),
    ...(env.TEMPORAL_API_KEY ? { temporalApiKey: env.TEMPORAL_API_KEY } : {}),
  };
}

function url(name: string, value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (!/^postgres(ql)?:\/\//.test(value)) throw new ConfigError(`\`${name}\` must be a postgres:// url, ${shownValue(value)}`);
  return value;
}

/**
 * A refused database URL as an error message may show it: redacted when it parses as a URL with a
 * host, else not at all (a libpq keyword string, `host=db password=...`, is all secret to a regex).
 */
function shownValue(value: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(value);
  } catch {
    parsed = undefined;
  }
  if (!parsed || parsed.host === '') return 'and its value is not a URL (not shown: it may hold a password)';
  // The URL parser drops spaces around the text: say so, or the shown value would look right.
  const around = value.trim() !== value ? ' (with spaces or control characters around it)' : '';
  return `got \`${redactUrl(value)}\`${around}`;
}

function slackConfig(env: NodeJS.ProcessEnv): SlackConfig | undefined {
  const botToken = env.SLACK_BOT_TOKEN;
  if (!botToken) return undefined;
  const port = env.SLACK_PORT ? Number(env.SLACK_PORT) : 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`\`SLACK_PORT\` must be a port number, got \`${env.SLACK_PORT}\``);
  return {
    botToken,
    signingSecret: env.SLACK_SIGNING_SECRET || undefined,
    appToken: env.SLACK_APP_TOKEN || undefined,
    socketMode: Boolean(env.SLACK_APP_TOKEN),
    port,
    apiUrl: env.SLACK_API_URL || undefined,
  };
}
