/**
 * The sample tool catalog: twelve tools doing real work on a PostgreSQL "production" database
 * (seed it with `seedSampleProduction`). The demo and the tests use it; users replace it with
 * their own catalog built from `defineTool` and `createCatalog`.
 */
import type { Pool } from 'pg';
import { createCatalog, type ToolCatalog } from '../catalog';
import { auditModify } from './audit';
import { billingDeleteRecords, billingQuery, billingSummary } from './billing';
import { envModifyProduction, secretsRotate, servicesRestart, servicesScale } from './services';
import { stagingWriteConfig } from './staging';
import { volumesDelete, volumesList, volumesUnmount } from './volumes';

/** The sample tools, in the order of `SAMPLE_TOOL_INFO`. */
export const SAMPLE_TOOLS = [
  billingQuery,
  billingSummary,
  billingDeleteRecords,
  volumesList,
  volumesUnmount,
  volumesDelete,
  servicesScale,
  servicesRestart,
  envModifyProduction,
  secretsRotate,
  stagingWriteConfig,
  auditModify,
] as const;

/** The sample catalog bound to a production database (which also holds its `tool_executions` ledger). */
export function createSampleCatalog(opts: { readonly productionPool: Pool }): ToolCatalog {
  return createCatalog(SAMPLE_TOOLS, { database: opts.productionPool });
}

export { SAMPLE_TOOL_INFO } from './info';
export { SAMPLE_CUSTOMERS, SAMPLE_SERVICES, SAMPLE_TEST_CUSTOMERS, SAMPLE_TEST_RECORDS, SAMPLE_VOLUMES, sampleSchemaSql, seedSampleProduction } from './seed';
export type { SeedResult } from './seed';
export { previousMonth } from './common';
