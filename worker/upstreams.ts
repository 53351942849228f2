/**
 * The worker's upstream MCP servers from the Gatehouse configuration file: `GATEHOUSE_CONFIG`
 * (or an explicit path) names a YAML file whose `mcp.upstreams` lists them (see
 * `activities/upstreams/config.ts`). Without a file, no upstreams. Node-only.
 */
import type { Pool } from 'pg';
import type { ToolCatalog } from '../activities/tools/catalog';
import { loadUpstreamConfig, UpstreamManager } from '../activities/upstreams';

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
 * Loads the configuration (throws `UpstreamConfigError` with paths when it is broken), connects
 * every upstream and registers its tools in `catalog`. `undefined` when no file is configured.
 */
export async function startWorkerUpstreams(opts: WorkerUpstreamsOptions): Promise<UpstreamManager | undefined> {
  const env = opts.env ?? process.env;
  const file = opts.configFile ?? env.GATEHOUSE_CONFIG;
  if (!file) return undefined;
  const servers = loadUpstreamConfig(file, env);
  const manager = new UpstreamManager({ servers, catalog: opts.catalog, publish: opts.auditPool, ...(opts.log ? { log: opts.log } : {}) });
  await manager.start();
  return manager;
}
