/**
 * The whole Gatehouse stack in one process tree — what `gatehouse start` (and `npm start`) runs:
 * a Temporal dev server persisted to `.data/temporal.sqlite` (Web UI on :8233 unless taken) — or,
 * with `temporal: 'server'`, the full Temporal server on the embedded PostgreSQL (stack-temporal.ts),
 * its Web UI served by the console to operators (stack-temporal-ui.ts) — an embedded PostgreSQL under `.data/postgres` (databases `gatehouse` for the audit trail and
 * `gatehouse_production` for the sample tools), the migrations, the worker and, with Slack
 * credentials, the approvals app, and the gateway (HTTP API and MCP on 127.0.0.1, `GATEHOUSE_GATEWAY_PORT`
 * or 4780 when free, else a free port). `TEMPORAL_ADDRESS` / `DATABASE_URL` /
 * `GATEHOUSE_PRODUCTION_DATABASE_URL` use real deployments instead of the embedded servers.
 * Keys: `GATEHOUSE_KEYS` names the keyset the worker trusts; without it the stack makes
 * development keys once under `.data/keys/` (`dev-keys.ts`), which `GATEHOUSE_ENV=production`
 * refuses. Named policies: `GATEHOUSE_POLICIES` (`name=file,...` or a folder) beside the default.
 *
 * Every part that starts registers how to stop it, so `stop()` — or an abort during start-up —
 * stops exactly what is running, in reverse order. The stack file `.data/stack.json` tells other
 * commands (`loadConfig()`) where everything is; it is removed on stop.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Client } from '@temporalio/client';
import { connectTemporal } from '../../client/grpc-retry';
import { NativeConnection } from '@temporalio/worker';
import { createSlackClient } from '../../activities/slack-client';
import pg from 'pg';
import { createDatabaseIfMissing, redactUrl, siblingDatabase } from './database-urls';
import { seedSampleProduction } from '../../activities/tools/sample/seed';
import { loadCatalog } from '../catalog-module';
import { createApprovalsApp } from '../../approvals/slack/app';
import { RevocationCache } from '../../audit/revocation-cache';
import { startTickets } from '../../audit/start-tickets';
import { DEFAULT_GATEWAY_PORT, startGateway } from '../../gateway/start';
import { publishedUpstreamTools } from '../../gateway/mcp/upstream-tools';
import { startWorkerUpstreams } from '../upstreams';
import { loadUpstreamConfig } from '../../activities/upstreams/config';
import { ApprovalStore } from '../../approvals/store';
import { migrate } from '../../audit/migrate';
import { openRuntimePool } from '../../audit/roles';
import { dataDir as defaultDataDir, DEFAULT_POLICY_FILE, loadConfig, readStackFile, stackFilePath, stackTemporalSecurity, temporalSecurity, type GatehouseConfig, type StackFile, type TemporalClientRole } from '../../client/config';
import type { PolicyDocument } from '../../policies';
import { createGatehouseWorker } from '../create-worker';
import { approversOf, DEFAULT_POLICY_NAME, loadNamedPolicies, loadPolicyFile, PolicyRegistryError } from '../policy-registry';
import { shownText } from '../../approvals/shown-text';
import { LOCALHOST } from './ports';
import { reachableDataDir, startEmbeddedPostgres } from './postgres';
import { approvalsServiceKey, stackKeys } from './stack-keys';
import { startStackConsole } from './stack-console';
import { startStackTemporal, type TemporalKind } from './stack-temporal';
import { intentScorerFor } from './embeddings';

export { StackKeysError, stackKeys } from './stack-keys';
export { redactUrl } from './database-urls';

/** Database names of the embedded PostgreSQL. */
export const AUDIT_DATABASE = 'gatehouse';
export const PRODUCTION_DATABASE = 'gatehouse_production';

export interface StackOptions {
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Policy document (YAML or JSON) the worker enforces. @default `GATEHOUSE_POLICY`, else policies/examples/production.yaml */
  readonly policyFile?: string;
  /**
   * Named policies the worker loads besides the default one and `GATEHOUSE_POLICIES` (the CLI
   * adds the demo's on a development stack); a credential's `policies` claim picks from them.
   */
  readonly policies?: Readonly<Record<string, PolicyDocument>>;
  /** The configuration file whose `mcp.upstreams` the worker gates. @default `GATEHOUSE_CONFIG`, else none */
  readonly configFile?: string;
  /** A module exporting `createCatalog({ productionPool })`: your tools instead of the sample ones. @default `GATEHOUSE_CATALOG`, else the sample catalog */
  readonly catalogModule?: string;
  /** Preferred Web UI port (another free port when taken). @default 8233 */
  readonly uiPort?: number;
  /** The embedded Temporal: the CLI's dev server, or the full server on the embedded PostgreSQL. @default 'dev' */
  readonly temporal?: TemporalKind;
  /** Preferred frontend port (another free port when taken). @default 7233 */
  readonly temporalPort?: number;
  /** Start the worker (off only for tests of the servers alone). @default true */
  readonly worker?: boolean;
  /** Progress lines. @default stderr */
  readonly log?: (line: string) => void;
  /** Aborting during start-up stops what already started and rejects with {@link StackAbortedError}. */
  readonly signal?: AbortSignal;
}

/** One line of the "what runs where" table. */
export interface StackPart {
  readonly name: string;
  readonly where: string;
}

export interface RunningStack {
  readonly config: GatehouseConfig;
  readonly stackFile: StackFile;
  readonly parts: readonly StackPart[];
  /** Resolves if the worker stops on its own (a fatal worker error rejects). */
  readonly workerDone?: Promise<void>;
  /** The audit pool each part was given, as given (the runtime role's when postgres is embedded): tests check its role. */
  readonly auditPools: { readonly worker?: pg.Pool; readonly approvals?: pg.Pool; readonly gateway?: pg.Pool };
  /** Stops everything in reverse start order; safe to call twice. */
  stop(): Promise<void>;
}

/** Thrown when start-up was aborted (Ctrl-C); what had started is stopped by then. */
export class StackAbortedError extends Error {
  readonly type = 'StackAborted';
  constructor() {
    super('start-up interrupted: everything already started was stopped');
    this.name = 'StackAbortedError';
  }
}

/** Thrown when another `gatehouse start` is running on the same data folder. */
export class StackAlreadyRunningError extends Error {
  readonly type = 'StackAlreadyRunning';
  constructor(readonly pid: number, file: string) {
    super(`gatehouse is already running (pid ${pid}, stack file \`${file}\`): stop it first`);
    this.name = 'StackAlreadyRunningError';
  }
}

/** Brings the stack up; on any failure or abort, stops what started and rethrows. */
export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const env = options.env ?? process.env;
  // Lines carry others' text (an upstream's stderr, an agent's id in an error): controls escaped, as `gatehouse start`'s own log does.
  const log = options.log ?? ((line: string) => process.stderr.write(`${shownText(line)}\n`));
  const stoppers: { name: string; stop: () => Promise<void> }[] = [];
  const parts: StackPart[] = [];
  const checkAbort = () => {
    if (options.signal?.aborted) throw new StackAbortedError();
  };
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      for (const s of stoppers.reverse()) {
        try {
          await s.stop();
        } catch (err) {
          log(`gatehouse: stopping ${s.name} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    })();
    return stopped;
  };

  try {
    const base = defaultDataDir(env);
    const file = stackFilePath(env);
    const running = readStackFile(env);
    if (running && running.pid !== process.pid) throw new StackAlreadyRunningError(running.pid, file);
    // The policy first: a broken policy file is refused before anything starts.
    const policyFile = options.policyFile ?? (env.GATEHOUSE_POLICY || DEFAULT_POLICY_FILE);
    // Loaded even without a worker: the development keys are made for the policies' approvers.
    const policy = loadPolicyFile(policyFile);
    const named = { ...options.policies, ...loadNamedPolicies(env.GATEHOUSE_POLICIES) };
    if (DEFAULT_POLICY_NAME in named) throw new PolicyRegistryError(`policy name \`${DEFAULT_POLICY_NAME}\` is the default policy's: choose another name`);
    // The upstream MCP configuration too: a broken file is refused (with its paths) before anything starts.
    const configFile = options.configFile ?? env.GATEHOUSE_CONFIG;
    const catalogModule = options.catalogModule ?? (env.GATEHOUSE_CATALOG || undefined);
    if (configFile) loadUpstreamConfig(configFile, env);
    await mkdir(base, { recursive: true });
    const trust = stackKeys(env, join(base, 'keys'), approversOf([policy, ...Object.values(named)]), log);
    const fromEnv = loadConfig({ ...env, GATEHOUSE_STACK_FILE: join(base, 'no-stack-file') });

    // Temporal and PostgreSQL: the dev server starts first (it is ready sooner); the full server
    // keeps its state in the embedded PostgreSQL, so with `temporal: 'server'` PostgreSQL comes first.
    let databaseUrl = '';
    let productionDatabaseUrl = '';
    let postgresInfo: StackFile['postgres'];
    let postgresSuperuser: { user: string; password: string } | undefined;
    let embeddedProduction = false;
    let temporal: StackFile['temporal'] | undefined;
    // 1. PostgreSQL: the embedded server with both databases, or the deployment DATABASE_URL names.
    const startPostgres = async () => {
      if (fromEnv.databaseUrl) {
        databaseUrl = fromEnv.databaseUrl;
        productionDatabaseUrl = fromEnv.productionDatabaseUrl ?? siblingDatabase(databaseUrl, PRODUCTION_DATABASE);
        log('gatehouse: using postgres from DATABASE_URL');
        if (!fromEnv.productionDatabaseUrl) await createDatabaseIfMissing(databaseUrl, PRODUCTION_DATABASE);
        parts.push({ name: 'postgres', where: `${redactUrl(databaseUrl)} (DATABASE_URL)` });
      } else {
        log('gatehouse: starting postgres');
        // The default folder may sit where the server's own user cannot go (a clone under /root).
        const pgDir = env.GATEHOUSE_DATA_DIR ? join(base, 'postgres') : await reachableDataDir(join(base, 'postgres'));
        const server = await startEmbeddedPostgres({ dataDir: pgDir });
        stoppers.push({ name: 'postgres', stop: () => server.stop() });
        checkAbort();
        await server.createDatabase(AUDIT_DATABASE);
        databaseUrl = server.urlFor(AUDIT_DATABASE);
        if (fromEnv.productionDatabaseUrl) {
          productionDatabaseUrl = fromEnv.productionDatabaseUrl;
        } else {
          await server.createDatabase(PRODUCTION_DATABASE);
          productionDatabaseUrl = server.urlFor(PRODUCTION_DATABASE);
          embeddedProduction = true;
        }
        postgresInfo = { port: server.port, dataDir: pgDir };
        postgresSuperuser = { user: server.user, password: server.password };
        parts.push({ name: 'postgres', where: `127.0.0.1:${server.port} (pid ${server.pid}, data ${pgDir})` });
        parts.push({ name: 'audit database', where: redactUrl(databaseUrl) });
        parts.push({ name: 'sample production database', where: redactUrl(productionDatabaseUrl) });
      }
      checkAbort();
    };
    // 2. Temporal: the deployment TEMPORAL_ADDRESS names, or the embedded dev server or full server.
    const startTemporal = async () => {
      if (env.TEMPORAL_ADDRESS) {
        temporal = { address: fromEnv.temporalAddress, namespace: fromEnv.namespace, embedded: false };
        log(`gatehouse: using temporal at ${temporal.address} (TEMPORAL_ADDRESS)`);
      } else {
        const started = await startStackTemporal({
          kind: options.temporal ?? 'dev',
          env,
          dataDir: base,
          namespace: fromEnv.namespace,
          ...(postgresInfo && postgresSuperuser ? { postgres: { port: postgresInfo.port, ...postgresSuperuser } } : {}),
          ...(options.temporalPort !== undefined ? { temporalPort: options.temporalPort } : {}),
          ...(options.uiPort !== undefined ? { uiPort: options.uiPort } : {}),
          log,
        });
        stoppers.push({ name: 'temporal', stop: () => started.stop() });
        temporal = started.temporal;
        parts.push(...started.parts);
      }
      checkAbort();
    };
    if (options.temporal === 'server') {
      await startPostgres();
      await startTemporal();
    } else {
      await startTemporal();
      await startPostgres();
    }
    if (!temporal) throw new StackAbortedError();

    // 3. Pools, migrations, the sample data (only into the embedded "production" — never a real one).
    const auditPool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
    const productionPool = new pg.Pool({ connectionString: productionDatabaseUrl, max: 10 });
    auditPool.on('error', () => undefined);
    productionPool.on('error', () => undefined);
    stoppers.push({ name: 'database pools', stop: async () => void (await Promise.allSettled([auditPool.end(), productionPool.end()])) });
    const applied = await migrate(auditPool);
    log(`gatehouse: migrations ${applied.length ? `applied: ${applied.join(', ')}` : 'up to date'}`);
    // Embedded: the worker and the approvals app connect as a role that may only INSERT and SELECT the audit trail.
    const runtime = postgresInfo ? await openRuntimePool(auditPool, databaseUrl) : undefined;
    const runtimePool = runtime?.pool ?? auditPool;
    const auditPools: { worker?: pg.Pool; approvals?: pg.Pool; gateway?: pg.Pool } = {};
    if (runtime) {
      stoppers.push({ name: 'runtime database pool', stop: () => runtime.pool.end() });
      parts.push({ name: 'worker database role', where: `${runtime.role} (insert and select only on the audit trail)` });
    }
    if (embeddedProduction) {
      const seeded = await seedSampleProduction(productionPool);
      if (seeded.seeded) log(`gatehouse: sample production data seeded (${seeded.testRecords} test billing records of ${seeded.testMonth})`);
    }
    checkAbort();

    // 4. Temporal connections, each process role with its own certificate (mutual TLS of `--temporal
    // server`), or the TLS / API key of a real deployment.
    const embeddedTls = temporal.tls;
    const security = (role: TemporalClientRole) => (temporal!.embedded ? stackTemporalSecurity(embeddedTls, role) : temporalSecurity(fromEnv, role));
    const connection = await connectTemporal({ address: temporal.address, ...security('approvals') });
    stoppers.push({ name: 'temporal client', stop: () => connection.close() });
    const client = new Client({ connection, namespace: temporal.namespace });
    checkAbort();

    // 5. The worker.
    let workerDone: Promise<void> | undefined;
    if (options.worker !== false) {
      const nativeConnection = await NativeConnection.connect({ address: temporal.address, ...security('worker') });
      stoppers.push({ name: 'worker connection', stop: () => nativeConnection.close() });
      const slackClient = fromEnv.slack
        ? createSlackClient(fromEnv.slack.botToken, fromEnv.slack.apiUrl)
        : undefined;
      // Upstream MCP servers of `GATEHOUSE_CONFIG` join the catalog's tools (see docs/tutorials/gating-mcp-servers.md).
      const catalog = await loadCatalog(catalogModule, productionPool);
      const upstreams = await startWorkerUpstreams({ catalog, auditPool: runtimePool, env, log, ...(configFile ? { configFile } : {}) });
      if (upstreams) {
        stoppers.push({ name: 'upstream mcp servers', stop: () => upstreams.close() });
        parts.push({ name: 'mcp upstreams', where: configFile ?? '' });
      }
      // The intent scorer: the local embedding model (a process of its own) unless configured otherwise.
      const scorer = await intentScorerFor(env, log);
      if (scorer.embeddings) stoppers.push({ name: 'embedding model', stop: () => scorer.embeddings!.stop() });
      parts.push({ name: 'intent model', where: scorer.description });
      log(`gatehouse: intent scorer: ${scorer.description}`);
      checkAbort();
      log('gatehouse: starting the worker (bundling the workflow code)');
      const worker = await createGatehouseWorker({
        catalog,
        connection: nativeConnection,
        namespace: temporal.namespace,
        taskQueue: fromEnv.taskQueue,
        auditPool: (auditPools.worker = runtimePool),
        productionPool,
        policy,
        policyName: DEFAULT_POLICY_NAME,
        policies: named,
        keyset: trust.keyset,
        intent: scorer.config,
        ...(slackClient ? { slack: slackClient } : {}),
      });
      const running = worker.run();
      running.catch(() => undefined);
      workerDone = running;
      stoppers.push({
        name: 'worker',
        stop: async () => {
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await running.catch(() => undefined);
        },
      });
      parts.push({ name: 'worker', where: `task queue \`${fromEnv.taskQueue}\`, namespace \`${temporal.namespace}\`, policy ${policyFile}, catalog ${catalogModule ?? 'the sample tools'}` });
      const names = Object.keys(named);
      if (names.length > 0) parts.push({ name: 'named policies', where: names.join(', ') });
    }
    checkAbort();

    // 6. The Slack approvals app, when credentials are set; otherwise approvals go through the CLI.
    let approvals: StackFile['approvals'];
    const slack = fromEnv.slack;
    if (slack && (slack.signingSecret || slack.socketMode)) {
      // A pool of its own: a click holds its connection (and the approval's row lock) while the session
      // answers the vote, and that answer needs the worker's audit writes, which must not wait for it.
      const approvalsPool = new pg.Pool({ connectionString: runtime?.url ?? databaseUrl, max: 4 });
      approvalsPool.on('error', () => undefined);
      stoppers.push({ name: 'approvals database pool', stop: () => approvalsPool.end() });
      const app = createApprovalsApp({
        token: slack.botToken,
        signingSecret: slack.signingSecret,
        appToken: slack.appToken,
        socketMode: slack.socketMode,
        port: slack.port,
        // Like every part of the stack, on loopback unless told otherwise (a tunnel or proxy forwards Slack to it).
        host: env.SLACK_HOST || LOCALHOST,
        slackApiUrl: slack.apiUrl,
        store: new ApprovalStore((auditPools.approvals = approvalsPool)),
        temporalClient: client,
        signingKey: approvalsServiceKey(env, trust.keys),
        keyset: trust.keyset,
      });
      const started = await app.start();
      stoppers.push({ name: 'approvals app', stop: () => app.stop() });
      approvals = { url: started.url, socketMode: slack.socketMode };
      parts.push({ name: 'slack approvals', where: slack.socketMode ? 'socket mode' : (started.url ?? `port ${slack.port}`) });
    } else {
      parts.push({ name: 'approvals', where: 'by cli: `gatehouse approvals list | approve <id> | deny <id>` (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET for slack)' });
    }
    checkAbort();

    // 7. The gateway: the agents' front door (HTTP API and MCP), with its own Temporal client.
    const gatewayPool = (auditPools.gateway = runtimePool);
    const revocations = await RevocationCache.open(gatewayPool);
    stoppers.push({ name: 'revocation listener', stop: () => revocations.close() });
    const gateway = await startGateway({
      temporal: { address: temporal.address, namespace: temporal.namespace, taskQueue: fromEnv.taskQueue, ...security('gateway') },
      keyset: trust.keyset,
      revocations,
      credentialTickets: startTickets(gatewayPool),
      catalog: await loadCatalog(catalogModule, productionPool),
      upstreamTools: publishedUpstreamTools(gatewayPool),
      // A stable port start after start (a pasted host config needs none, but a person's bookmarks do).
      preferredPort: DEFAULT_GATEWAY_PORT,
      env,
    });
    stoppers.push({ name: 'gateway', stop: () => gateway.close() });
    parts.push({ name: 'gateway', where: gateway.fellBack ? `${gateway.url} (port ${DEFAULT_GATEWAY_PORT} was taken; GATEHOUSE_GATEWAY_PORT picks one)` : gateway.url });
    parts.push({ name: 'mcp', where: gateway.mcpUrl });
    checkAbort();

    // 7b. The people's console (passkeys, approvals inbox), when the keyset has its registrar key.
    const consoleUrl = await startStackConsole({ env, dataDir: base, temporal, keys: trust.keys, keyset: trust.keyset, pool: auditPool, client, log, stoppers, parts, defaultPolicy: { document: policy, file: policyFile } });
    checkAbort();

    // 8. The stack file, last: its presence means "everything above is up".
    const stackFile: StackFile = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      temporal,
      taskQueue: fromEnv.taskQueue,
      databaseUrl,
      productionDatabaseUrl,
      postgres: postgresInfo,
      approvals,
      keys: trust.keys,
      policyNames: [DEFAULT_POLICY_NAME, ...Object.keys(named)],
      gateway: { url: gateway.url, mcpUrl: gateway.mcpUrl },
      ...(consoleUrl ? { console: { url: consoleUrl } } : {}),
    };
    parts.push({ name: 'keys', where: `${trust.keys.keysetFile}${trust.keys.developmentOperatorKey ? ' (development keys: refused in production)' : ' (GATEHOUSE_KEYS)'}` });
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify(stackFile, null, 2)}\n`, { mode: 0o600 });
    stoppers.push({ name: 'stack file', stop: () => rm(file, { force: true }) });

    return { config: loadConfig(env), stackFile, parts, workerDone, auditPools, stop };
  } catch (err) {
    await stop();
    throw options.signal?.aborted && !(err instanceof StackAbortedError) ? new StackAbortedError() : err;
  }
}
