/**
 * The worker process: `node --import tsx worker/main.ts`. Everything comes from the environment
 * (`client/config.ts` names: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, GATEHOUSE_TASK_QUEUE,
 * DATABASE_URL, GATEHOUSE_PRODUCTION_DATABASE_URL, SLACK_*), plus:
 * - `GATEHOUSE_KEYS` (required): the keyset file the worker trusts (operator keys for agent
 *   credentials, resumes and budget raises; approver and approvals-service keys for votes);
 * - `GATEHOUSE_ENV=production`: refuse a development keyset (the one `gatehouse start` makes), a
 *   plaintext Temporal connection, a policy with `mode: shadow` (unless `GATEHOUSE_ALLOW_SHADOW_POLICY=1`)
 *   and a policy whose warnings say it silently loosens the gate (`reviewPolicies`); `development` or
 *   unset: none of these (the warnings are logged); any other value: refuse to start;
 * - `GATEHOUSE_POLICY`: the default policy file (default `policies/examples/production.yaml`);
 * - `GATEHOUSE_POLICIES`: further named policies, `name=file,name2=file2` or a folder of
 *   `<name>.yaml` files, which agent credentials may allow their sessions to name;
 * - `GATEHOUSE_CATALOG`: a module exporting `createCatalog({ productionPool })` to replace the
 *   sample tools with your own (default: the sample catalog);
 * - `GATEHOUSE_CONFIG`: the Gatehouse configuration file whose `mcp.upstreams` lists the MCP
 *   servers whose tools join the catalog as `<server>.<tool>` (see docs/tutorials/gating-mcp-servers.md);
 * - `TEMPORAL_TLS_CERT` / `TEMPORAL_TLS_KEY` / `TEMPORAL_API_KEY` for a remote cluster.
 * - `OTEL_EXPORTER_OTLP_ENDPOINT`: traces and metrics over OTLP (README, "Tracing and metrics"); unset: off.
 * - `GATEHOUSE_WORKFLOW_BUNDLE`: a prebuilt bundle (JavaScript file) of today's workflows instead of
 *   bundling them at start-up (tests build one per run, not one per worker process; with tracing on
 *   it must have been built with the tracing modules, `telemetry/install.ts`).
 * Used by docker-compose and by the durability tests, which kill it with SIGKILL mid-call.
 */
import { NativeConnection, Runtime } from '@temporalio/worker';
import { runtimeTelemetryOptions, startTelemetryFromEnv } from '../telemetry/env';
import { shownText } from '../approvals/shown-text';
import { escapedRuntimeLogging } from './escaped-logger';
import { createSlackClient } from '../activities/slack-client';
import pg from 'pg';
import { migrate } from '../audit/migrate';
import { DEFAULT_POLICY_FILE, deploymentEnv, loadConfig, insecureTemporalInProduction, temporalSecurity } from '../client/config';
import { capacityFromEnv, sessionHistoryLimitFromEnv } from './capacity';
import { loadKeysetFile } from '../client/trust/keyset-file';
import { loadCatalog } from './catalog-module';
import { createGatehouseWorker, WorkerConfigError } from './create-worker';
import { startWorkerUpstreams } from './upstreams';
import { ALLOW_SHADOW_POLICY, argumentSchemasOf, DEFAULT_POLICY_NAME, loadPolicies, reviewPolicies } from './policy-registry';
import { catalogInfo } from '../activities/tools/catalog';
import { loadUpstreamConfig } from '../activities/upstreams';
import { shownLine } from '../approvals/shown-text';

async function main(): Promise<void> {
  // First: a misspelt `GATEHOUSE_ENV` stops the worker before it reads anything else.
  const production = deploymentEnv(process.env.GATEHOUSE_ENV) === 'production';
  const config = loadConfig();
  if (!config.databaseUrl) throw new WorkerConfigError('`DATABASE_URL` is not set and no running stack was found');
  if (!config.productionDatabaseUrl) throw new WorkerConfigError('`GATEHOUSE_PRODUCTION_DATABASE_URL` is not set and no running stack was found');
  const keysFile = process.env.GATEHOUSE_KEYS;
  if (!keysFile) throw new WorkerConfigError('`GATEHOUSE_KEYS` is not set: point it at the keyset file the worker trusts (see docs/reference/cli.md, "Keys and credentials")');
  const keyset = loadKeysetFile(keysFile, { production });
  const security = temporalSecurity(config, 'worker');
  const insecure = insecureTemporalInProduction(security);
  if (insecure) throw new WorkerConfigError(insecure);
  const loaded = loadPolicies(process.env.GATEHOUSE_POLICY || DEFAULT_POLICY_FILE, process.env.GATEHOUSE_POLICIES);
  const policy = loaded[0]!.document;
  const policies = Object.fromEntries(loaded.slice(1).map((p) => [p.name, p.document]));
  if (DEFAULT_POLICY_NAME in policies) throw new WorkerConfigError(`policy name \`${DEFAULT_POLICY_NAME}\` is the default policy's: choose another name in \`GATEHOUSE_POLICIES\``);

  const capacity = capacityFromEnv();
  const sessionHistoryLimit = sessionHistoryLimitFromEnv();
  const auditPool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  const productionPool = new pg.Pool({ connectionString: config.productionDatabaseUrl, max: 10 });
  const catalog = await loadCatalog(process.env.GATEHOUSE_CATALOG, productionPool);
  // Before connecting anywhere: each policy compiled against the catalog, its warnings logged (one
  // escaped line each); in production, a shadow policy or a rule that silently loosens the gate stops the worker.
  const configFile = process.env.GATEHOUSE_CONFIG;
  reviewPolicies(loaded, {
    tools: catalogInfo(catalog),
    schemas: argumentSchemasOf(catalog.tools()),
    upstreamServers: configFile ? loadUpstreamConfig(configFile, process.env).map((s) => s.name) : [],
    production,
    allowShadow: process.env[ALLOW_SHADOW_POLICY] === '1',
    log: (line) => process.stderr.write(`gatehouse worker: ${shownLine(line)}\n`),
  });
  await migrate(auditPool);
  // The log carries the upstream servers' text: its controls are escaped.
  const upstreams = await startWorkerUpstreams({ catalog, auditPool, log: (line) => process.stderr.write(`gatehouse worker: ${shownText(line)}\n`) });

  // OTEL_EXPORTER_OTLP_ENDPOINT set: traces and Gatehouse metrics, and the SDK's worker metrics from core.
  const telemetry = await startTelemetryFromEnv('worker');
  // The SDK logs failed activities and workflows with messages agents wrote: through the escaping logger (INFO, the SDK's default level).
  Runtime.install(escapedRuntimeLogging('INFO', runtimeTelemetryOptions()));
  const connection = await NativeConnection.connect({ address: config.temporalAddress, ...security });
  const slack = config.slack ? createSlackClient(config.slack.botToken, config.slack.apiUrl) : undefined;
  const worker = await createGatehouseWorker({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    auditPool,
    productionPool,
    policy,
    policyName: DEFAULT_POLICY_NAME,
    policies,
    keyset,
    catalog,
    ...(slack ? { slack } : {}),
    // Shared by a deployment's workers, any of them hands back a lease another took (docs/reference/policy.md).
    ...(process.env.GATEHOUSE_LEASE_SECRET ? { leaseSecret: process.env.GATEHOUSE_LEASE_SECRET } : {}),
    workerOptions: capacity,
    ...(sessionHistoryLimit !== undefined ? { sessionHistoryLimit } : {}),
    ...(process.env.GATEHOUSE_WORKFLOW_BUNDLE ? { workflowBundle: { codePath: process.env.GATEHOUSE_WORKFLOW_BUNDLE } } : {}),
  });
  process.stdout.write(`gatehouse worker: polling task queue ${config.taskQueue} on ${config.temporalAddress} (namespace ${config.namespace}); keyset ${keysFile}; policies ${loaded.map((p) => `${p.name} (${p.document.mode})`).join(', ')}\n`);
  // SIGTERM/SIGINT: the SDK stops polling and lets running tasks finish.
  await worker.run();
  await upstreams?.close();
  await connection.close();
  await Promise.all([auditPool.end(), productionPool.end()]);
  await telemetry?.shutdown();
}

main().catch((err: unknown) => {
  process.stderr.write(`gatehouse worker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
