/**
 * The worker's upstream MCP servers from the Gatehouse configuration file: `GATEHOUSE_CONFIG`
 * (or an explicit path) names a YAML file whose `mcp.upstreams` lists them (see
 * `activities/upstreams/config.ts`). Without a file, no upstreams. Node-only.
 */
import type { Pool } from 'pg';
import type { ToolCatalog } from '../activities/tools/catalog';
import { loadUpstreamConfig, UpstreamManager } from '../activities/upstreams';
import { ALLOW_STDIO_UPSTREAMS, checkStdioInProduction } from '../activities/upstreams/stdio-in-production';
import { deploymentEnv } from '../client/config';

export interface WorkerUpstreamsOptions {
  /** @default `GATEHOUSE_CONFIG` */
  readonly configFile?: string;
  readonly catalog: ToolCatalog;
  /** The Gatehouse database: tool lists are published there for the gateway. */
  readonly auditPool: Pool;
  readonly log?: (line: string) => void;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Loads the configuration (throws `UpstreamConfigError` with paths when it is broken, or when it
 * names a stdio server under `GATEHOUSE_ENV=production` without `GATEHOUSE_ALLOW_STDIO_UPSTREAMS=1`), connects
 * every upstream and registers its tools in `catalog`. `undefined` when no file is configured.
 */
export async function startWorkerUpstreams(opts: WorkerUpstreamsOptions): Promise<UpstreamManager | undefined> {
  const env = opts.env ?? process.env;
  const file = opts.configFile ?? env.GATEHOUSE_CONFIG;
  if (!file) return undefined;
  const servers = loadUpstreamConfig(file, env);
  // Before any server is spawned: in production a stdio server could read the worker's secrets.
  const warning = checkStdioInProduction(file, servers, { production: deploymentEnv(env.GATEHOUSE_ENV) === 'production', allowed: env[ALLOW_STDIO_UPSTREAMS] === '1' });
  if (warning) (opts.log ?? ((line: string) => process.stderr.write(`${line}\n`)))(warning);
  const manager = new UpstreamManager({ servers, catalog: opts.catalog, publish: opts.auditPool, ...(opts.log ? { log: opts.log } : {}) });
  await manager.start();
  return manager;
}
