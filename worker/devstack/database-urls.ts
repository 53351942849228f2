/**
 * The stack's database URLs: the sibling database next to `DATABASE_URL`, creating it when it is
 * missing, and a URL without its password for printing.
 */
import pg from 'pg';

/** A URL without its password, for printing (it lives in `client/`, which the configuration errors use too). */
export { redactUrl } from '../../client/redact-url';

/** `url` with another database name. */
export function siblingDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates `database` next to `url` unless it exists. */
export async function createDatabaseIfMissing(url: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } catch (err) {
    throw new Error(
      `cannot create \`${database}\` next to DATABASE_URL: set GATEHOUSE_PRODUCTION_DATABASE_URL: ${err instanceof Error ? err.message : String(err)}`,
    );
  } finally {
    await client.end();
  }
}
