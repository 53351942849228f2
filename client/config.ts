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
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TASK_QUEUE } from '../workflows/contract';

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
  /** A Temporal Cloud API key (`TEMPORAL_API_KEY`); TLS is on with it. */
  readonly temporalApiKey?: string;
}

/** The TLS and API-key part of a Temporal connection, for `Connection` and `NativeConnection` alike. */
export interface TemporalSecurity {
  readonly tls?: true | { readonly clientCertPair: { readonly crt: Buffer; readonly key: Buffer } };
  readonly apiKey?: string;
}

/** Reads the certificate files a config names; empty for a plain local server. */
export function temporalSecurity(config: Pick<GatehouseConfig, 'temporalTls' | 'temporalApiKey'>): TemporalSecurity {
  const apiKey = config.temporalApiKey;
  if (config.temporalTls) {
    const read = (name: string, path: string) => {
      try {
        return readFileSync(path);
      } catch (err) {
        throw new ConfigError(`cannot read \`${name}\` file \`${path}\`: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    const clientCertPair = { crt: read('TEMPORAL_TLS_CERT', config.temporalTls.certPath), key: read('TEMPORAL_TLS_KEY', config.temporalTls.keyPath) };
    return { tls: { clientCertPair }, ...(apiKey ? { apiKey } : {}) };
  }
  return apiKey ? { tls: true, apiKey } : {};
}

/** What `gatehouse start` writes while it runs, and removes on exit. */
export interface StackFile {
  readonly pid: number;
  readonly startedAt: string;
  readonly temporal: { readonly address: string; readonly namespace: string; readonly uiUrl?: string; readonly embedded: boolean };
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
}

/** Thrown when a variable is set to something unusable. */
export class ConfigError extends Error {
  readonly type = 'ConfigError';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
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

function temporalAuth(env: NodeJS.ProcessEnv): Pick<GatehouseConfig, 'temporalTls' | 'temporalApiKey'> {
  const certPath = env.TEMPORAL_TLS_CERT || undefined;
  const keyPath = env.TEMPORAL_TLS_KEY || undefined;
  if (Boolean(certPath) !== Boolean(keyPath)) throw new ConfigError('`TEMPORAL_TLS_CERT` and `TEMPORAL_TLS_KEY` go together: set both or neither');
  return {
    ...(certPath && keyPath ? { temporalTls: { certPath, keyPath } } : {}),
    ...(env.TEMPORAL_API_KEY ? { temporalApiKey: env.TEMPORAL_API_KEY } : {}),
  };
}

function url(name: string, value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (!/^postgres(ql)?:\/\//.test(value)) throw new ConfigError(`\`${name}\` must be a postgres:// url, got \`${redact(value)}\``);
  return value;
}

/** Hides a password in a URL before it goes into an error message. */
function redact(value: string): string {
  return value.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
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
