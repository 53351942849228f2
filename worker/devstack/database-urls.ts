/**
 * The stack's database URLs: the sibling database next to `DATABASE_URL`, creating it when it is
 * missing, and a URL without its password for printing.
 */
import pg from 'pg';

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

/** Query parameters of a PostgreSQL URL that hold a secret. */
const SECRET_PARAMS = /^(password|sslpassword|passfile)$/i;

/**
 * A database URL for printing: the user name kept (which role connects), the password and any
 * secret query parameter shown as `***`. Parsed, so a password holding `@` or `:` is hidden whole;
 * text that is no URL shows nothing of what may be its userinfo.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url.replace(/^([^/]*\/\/)[^/?#]*@/, '$1***@');
  }
  if (u.password !== '') u.password = '***';
  for (const key of [...u.searchParams.keys()]) if (SECRET_PARAMS.test(key)) u.searchParams.set(key, '***');
  return u.href;
}
