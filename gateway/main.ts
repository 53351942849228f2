/**
 * The gateway process: `node --import tsx gateway/main.ts` (docker-compose's `gatehouse-gateway`).
 * Everything comes from the environment: the Temporal settings of `client/config.ts`,
 * `DATABASE_URL` (the revocation list, held in memory and kept current by PostgreSQL notifications), `GATEHOUSE_KEYS` (required: the operator keys that sign
 * agent credentials), `GATEHOUSE_ENV` (`production` or `development`, see `client/config.ts`), and the `GATEHOUSE_GATEWAY_*` variables of
 * `start.ts` (port 8080 unless `GATEHOUSE_GATEWAY_PORT` says otherwise).
 */
import pg from 'pg';
import { loadCatalog } from '../worker/catalog-module';
import { RevocationCache } from '../audit/revocation-cache';
import { deploymentEnv, insecureTemporalInProduction, loadConfig, temporalSecurity } from '../client/config';
import { startTickets } from '../audit/start-tickets';
import { loadKeysetFile } from '../client/trust/keyset-file';
import { publishedUpstreamTools } from './mcp';
import { startTelemetryFromEnv } from '../telemetry/env';
import { GatewayConfigError, startGateway } from './start';

async function main(): Promise<void> {
  // First: a misspelt `GATEHOUSE_ENV` stops the gateway before it reads anything else.
  const production = deploymentEnv(process.env.GATEHOUSE_ENV) === 'production';
  const config = loadConfig();
  if (!config.databaseUrl) throw new GatewayConfigError('`DATABASE_URL` is not set and no running stack was found');
  const keysFile = process.env.GATEHOUSE_KEYS;
  if (!keysFile) throw new GatewayConfigError('`GATEHOUSE_KEYS` is not set: point it at the keyset file whose operator keys sign agent credentials');
  const keyset = loadKeysetFile(keysFile, { production });
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  pool.on('error', () => undefined);
  // The catalog only lists the tools (MCP `tools/list`); nothing runs on its pool here.
  const productionPool = new pg.Pool({ connectionString: config.productionDatabaseUrl ?? config.databaseUrl, max: 1 });
  productionPool.on('error', () => undefined);
  // The worker's catalog (`GATEHOUSE_CATALOG`), so `tools/list` offers the tools sessions run; a broken module stops the start.
  const catalog = await loadCatalog(process.env.GATEHOUSE_CATALOG, productionPool);
  const security = temporalSecurity(config, 'gateway');
  const insecure = insecureTemporalInProduction(security);
  if (insecure) throw new GatewayConfigError(insecure);
  const revocations = await RevocationCache.open(pool, {
    onError: (err) => process.stderr.write(`gatehouse gateway: revocation listener lost (${err instanceof Error ? err.message : String(err)}); checking the table per request until it is back\n`),
  });
  // OTEL_EXPORTER_OTLP_ENDPOINT set: a span per request, carried into the session workflows.
  const telemetry = await startTelemetryFromEnv('gateway');
  const gateway = await startGateway({
    temporal: { address: config.temporalAddress, namespace: config.namespace, taskQueue: config.taskQueue, ...security },
    keyset,
    revocations,
    credentialTickets: startTickets(pool),
    catalog,
    // Upstream MCP tools as the worker published them: the gateway holds no upstream credentials.
    upstreamTools: publishedUpstreamTools(pool),
    port: process.env.GATEHOUSE_GATEWAY_PORT ? undefined : 8080,
  });
  process.stdout.write(`gatehouse gateway: ${gateway.url} (task queue ${config.taskQueue} on ${config.temporalAddress})\n`);
  const stop = async () => {
    await gateway.close();
    await revocations.close();
    await Promise.all([pool.end(), productionPool.end()]);
    await telemetry?.shutdown();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`gatehouse gateway: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
