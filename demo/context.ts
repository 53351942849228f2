/**
 * Connects a demo to a running Gatehouse: the configuration comes from `loadConfig()` (the
 * environment, or the `.data/stack.json` a running `gatehouse start` wrote), the agent side
 * through the public client (its credentials issued with the development stack's operator key),
 * the approver side with signed votes, and two pools for counting what happened in the audit
 * trail and in the sample production database. The demo writes sample rows to that database (and
 * `gatehouse demo reset` empties it), so it first makes sure it is the sample one, never a real
 * database that `GATEHOUSE_PRODUCTION_DATABASE_URL` happens to name.
 */
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { Gatehouse } from '../client';
import { loadConfig, readStackFile, temporalSecurity, type StackFile } from '../client/config';
import { redactUrl } from '../client/redact-url';
import { holdsSampleSeedMarker, NotSampleDatabaseError } from '../activities/tools/sample/seed';
import { LOCALHOST } from '../worker/devstack/ports';
import { PRODUCTION_DATABASE } from '../worker/devstack/stack';
import { readKeyFile, userKeyDir } from '../client/trust/key-files';
import { Approver } from './approver';
import { loadKeysetFile } from '../client/trust/keyset-file';
import { Story } from './story';
import type { DemoConfig, DemoContext, DemoOptions } from './types';
import { startWorkerProcess, type WorkerProcess, type WorkerProcessOptions } from '../worker/devstack/worker-process';

/**
 * A worker process of the demo's own on `taskQueue`, against the running stack and trusting its
 * keyset; `extra` picks its policies and upstreams.
 */
export function startDemoWorker(
  ctx: Pick<DemoContext, 'config' | 'temporal'>,
  taskQueue: string,
  extra: Pick<WorkerProcessOptions, 'policyFile' | 'policiesDir' | 'configFile'>,
): Promise<WorkerProcess> {
  const { config } = ctx;
  return startWorkerProcess({
    temporalAddress: config.temporalAddress,
    namespace: config.namespace,
    taskQueue,
    databaseUrl: config.databaseUrl,
    productionDatabaseUrl: config.productionDatabaseUrl,
    keysFile: config.keysetFile,
    workflowService: ctx.temporal.workflowService,
    ...extra,
  });
}

/** A connected demo context and how to let go of it. */
export interface OpenDemo {
  readonly ctx: DemoContext;
  close(): Promise<void>;
}

/** Thrown when there is no stack to run against. */
export class DemoConfigError extends Error {
  readonly type = 'DemoConfigError';
}

/** Reads the configuration the demo needs, with a message that says how to get a stack. */
export function demoConfig(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(env);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new DemoConfigError(`no running gatehouse found: start one with \`npm start\` (or set TEMPORAL_ADDRESS and DATABASE_URL): ${message}`);
  }
  const { temporalAddress, namespace, taskQueue, databaseUrl, productionDatabaseUrl } = config;
  if (!databaseUrl || !productionDatabaseUrl) {
    throw new DemoConfigError('no running gatehouse found: start one with `npm start` (or set TEMPORAL_ADDRESS, DATABASE_URL and GATEHOUSE_PRODUCTION_DATABASE_URL)');
  }
  const keys = config.stack?.keys;
  const keysetFile = env.GATEHOUSE_KEYS || keys?.keysetFile;
  if (!keysetFile) throw new DemoConfigError('no keyset: start the development stack with `npm start`, or set GATEHOUSE_KEYS');
  return {
    temporalAddress,
    namespace,
    taskQueue,
    databaseUrl,
    productionDatabaseUrl,
    security: temporalSecurity(config),
    keysetFile,
    keyDirs: [...(keys?.keyDir ? [keys.keyDir] : []), userKeyDir(env)],
    ...(keys?.developmentOperatorKey ? { operatorKeyFile: keys.developmentOperatorKey } : {}),
  };
}

/** The sample production database the demo writes to: `GATEHOUSE_PRODUCTION_DATABASE_URL`, else the running stack's. */
export function sampleDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  const url = loadConfig(env).productionDatabaseUrl;
  if (!url) throw new DemoConfigError('no running gatehouse found: start one with `npm start` (or set GATEHOUSE_PRODUCTION_DATABASE_URL to the sample database)');
  return url;
}

/** True when `url` is the running stack's own embedded sample database (`gatehouse_production` on its PostgreSQL). */
export function isEmbeddedSampleDatabase(url: string, stack: StackFile | undefined): boolean {
  if (!stack?.postgres) return false;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.hostname === LOCALHOST && u.port === String(stack.postgres.port) && decodeURIComponent(u.pathname) === `/${PRODUCTION_DATABASE}`;
}

/**
 * Makes sure `url` is the sample database before the demo writes to it: the running stack's
 * embedded one, or a database holding the sample seed's marker row. Otherwise throws
 * `NotSampleDatabaseError` (with the URL, its password hidden). Returns whether it is the embedded one.
 */
export async function checkSampleDatabase(pool: Pool, url: string, env: NodeJS.ProcessEnv = process.env): Promise<{ readonly embedded: boolean }> {
  if (isEmbeddedSampleDatabase(url, readStackFile(env))) return { embedded: true };
  if (await holdsSampleSeedMarker(pool)) return { embedded: false };
  throw new NotSampleDatabaseError(redactUrl(url));
}

/**
 * The demo's client on `taskQueue`: trusted code, so it issues its agents' credentials with the
 * development stack's operator key (each scenario names its own agent and owner).
 */
export function connectDemo(config: DemoConfig, taskQueue: string = config.taskQueue): Promise<Gatehouse> {
  const issuer = config.operatorKeyFile ? readKeyFile(config.operatorKeyFile) : undefined;
  return Gatehouse.connect({ address: config.temporalAddress, namespace: config.namespace, taskQueue, ...config.security, ...(issuer ? { issuer } : {}) });
}

export async function openDemo(options: DemoOptions, write?: (text: string) => void): Promise<OpenDemo> {
  const config = demoConfig();
  // Before anything connects or writes: the scenarios put sample rows back into this database.
  const productionPool = new Pool({ connectionString: config.productionDatabaseUrl, max: 4 });
  try {
    await checkSampleDatabase(productionPool, config.productionDatabaseUrl);
  } catch (err) {
    await productionPool.end();
    throw err;
  }
  const story = new Story(options.json, write);
  const gh = await connectDemo(config).catch(async (err: unknown) => {
    await productionPool.end();
    throw err;
  });
  const temporal = gh.client;
  const auditPool = new Pool({ connectionString: config.databaseUrl, max: 4 });
  const approver = new Approver({ pool: auditPool, gh, keyset: loadKeysetFile(config.keysetFile), keyDirs: config.keyDirs, story });
  const started: string[] = [];
  const ctx: DemoContext = {
    started,
    track(session) {
      started.push(session.sessionId);
      return session;
    },
    options,
    gh,
    story,
    approver,
    auditPool,
    productionPool,
    temporal,
    config,
    runId: randomBytes(3).toString('hex'),
  };
  return {
    ctx,
    async close() {
      await Promise.allSettled([gh.close(), auditPool.end(), productionPool.end()]);
    },
  };
}
