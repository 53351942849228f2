/**
 * `node --import tsx demo/seed.ts`: creates the sample "production" schema and inserts the demo
 * data once (`seedSampleProduction`; a second run changes nothing). `gatehouse start` does this
 * for the embedded stack; docker-compose runs it as a one-shot before the worker starts.
 * Reads `GATEHOUSE_PRODUCTION_DATABASE_URL` (or the running stack's) like every other part.
 */
import pg from 'pg';
import { loadConfig } from '../client/config';
import { seedSampleProduction } from '../activities/tools/sample/seed';

async function main(): Promise<void> {
  const { productionDatabaseUrl } = loadConfig();
  if (!productionDatabaseUrl) throw new Error('`GATEHOUSE_PRODUCTION_DATABASE_URL` is not set and no running stack was found');
  const pool = new pg.Pool({ connectionString: productionDatabaseUrl, max: 1 });
  try {
    const r = await seedSampleProduction(pool);
    process.stdout.write(`sample production data: ${r.seeded ? 'seeded' : 'already there'}: ${r.testRecords} test billing records in ${r.testMonth}\n`);
  } finally {
    await pool.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`gatehouse seed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
