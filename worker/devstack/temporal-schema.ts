/**
 * The Temporal server's two PostgreSQL databases (`temporal`, `temporal_visibility`): created when
 * missing, set up and upgraded with the release's own schema tool (`temporal-sql-tool`), then
 * checked. A database whose schema is newer than this server release (set up by a later server)
 * is refused before the tool touches it, with {@link TemporalSchemaVersionError} naming both versions.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { TEMPORAL_SCHEMA_VERSION, TEMPORAL_SERVER_VERSION, TEMPORAL_VISIBILITY_SCHEMA_VERSION, type TemporalServerBinaries } from './temporal-server-binary';
import { TEMPORAL_DATABASE, TEMPORAL_VISIBILITY_DATABASE } from './temporal-server-config';

/** Credentials of a PostgreSQL user that may create databases. */
export interface PostgresTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

/** Thrown when a database's schema version is not the one this server release expects. */
export class TemporalSchemaVersionError extends Error {
  readonly type = 'TemporalSchemaVersion';
  constructor(readonly database: string, readonly found: string, readonly expected: string) {
    super(
      `database \`${database}\` has temporal schema version ${found}, but temporal server ${TEMPORAL_SERVER_VERSION} needs ${expected}: ` +
        (compareVersions(found, expected) > 0 ? 'it was set up by a newer server: run that server, or a fresh database' : 'the schema upgrade did not reach it: see the schema tool output'),
    );
    this.name = 'TemporalSchemaVersionError';
  }
}

/** Thrown when the schema tool fails. */
export class TemporalSchemaToolError extends Error {
  readonly type = 'TemporalSchemaTool';
}

const STORES = [
  { database: TEMPORAL_DATABASE, dir: 'temporal', expected: TEMPORAL_SCHEMA_VERSION },
  { database: TEMPORAL_VISIBILITY_DATABASE, dir: 'visibility', expected: TEMPORAL_VISIBILITY_SCHEMA_VERSION },
] as const;

/** Creates, sets up and upgrades both databases; resolves to the versions they are at. */
export async function setUpTemporalSchema(binaries: TemporalServerBinaries, target: PostgresTarget): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  for (const store of STORES) {
    await createDatabaseIfMissing(target, store.database);
    const before = await schemaVersion(target, store.database);
    if (before !== undefined && compareVersions(before, store.expected) > 0) throw new TemporalSchemaVersionError(store.database, before, store.expected);
    if (before === undefined) await sqlTool(binaries, target, store.database, ['setup-schema', '-v', '0.0']);
    await sqlTool(binaries, target, store.database, ['update-schema', '-d', join(binaries.schemaDir, store.dir, 'versioned')]);
    const after = (await schemaVersion(target, store.database)) ?? 'none';
    if (after !== store.expected) throw new TemporalSchemaVersionError(store.database, after, store.expected);
    versions[store.database] = after;
  }
  return versions;
}

/** The `curr_version` of a database's `schema_version` table, undefined before setup. */
export async function schemaVersion(target: PostgresTarget, database: string): Promise<string | undefined> {
  return withClient(target, database, async (client) => {
    const exists = await client.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_version'");
    if (!exists.rowCount) return undefined;
    const r = await client.query<{ curr_version: string }>('SELECT curr_version FROM schema_version LIMIT 1');
    return r.rows[0]?.curr_version;
  });
}

async function createDatabaseIfMissing(target: PostgresTarget, database: string): Promise<void> {
  await withClient(target, 'postgres', async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  });
}

async function withClient<T>(target: PostgresTarget, database: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ host: target.host, port: target.port, user: target.user, password: target.password, database });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Runs the schema tool on one database; the password goes through the environment, not the command line. */
function sqlTool(binaries: TemporalServerBinaries, target: PostgresTarget, database: string, command: readonly string[]): Promise<void> {
  const args = ['--plugin', 'postgres12_pgx', '--ep', target.host, '-p', String(target.port), '-u', target.user, '--db', database, ...command];
  return new Promise((resolve, reject) => {
    const child = spawn(binaries.sqlTool, args, { env: { ...process.env, SQL_PASSWORD: target.password }, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (chunk: Buffer) => (tail = (tail + chunk.toString('utf8')).slice(-3000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => reject(new TemporalSchemaToolError(`\`${binaries.sqlTool}\` could not start: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new TemporalSchemaToolError(`temporal-sql-tool ${command[0]} on \`${database}\` failed (${signal ?? `exit ${code}`}): ${tail.trim()}`));
    });
  });
}

/** Orders dotted versions numerically (`1.9` < `1.19`). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
