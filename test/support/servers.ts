/**
 * One real Temporal server and one real PostgreSQL for the test suite.
 *
 * Under `npm test` the global runner (`test/run.ts`) starts both once and passes their addresses
 * through the environment (see {@link TEST_ENV}); every test file reads them from there. A file
 * run alone (`node --import tsx --test test/x/y.test.ts`) starts its own pair on first use and stops
 * it when the file's process is about to exit.
 *
 * `createTestDatabase(prefix)` gives each test file its own fresh, migrated database, so files
 * never share tables.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../audit/migrate';
import { startEmbeddedPostgres } from '../../worker/devstack/postgres';
import { findTemporalCli } from '../../worker/devstack/temporal-binary';
import { startTemporalDevServer } from '../../worker/devstack/temporal-server';

/** Environment variables through which the global runner hands its servers to test files. */
export const TEST_ENV = {
  temporalAddress: 'GATEHOUSE_TEST_TEMPORAL_ADDRESS',
  namespace: 'GATEHOUSE_TEST_TEMPORAL_NAMESPACE',
  temporalCliPath: 'GATEHOUSE_TEST_TEMPORAL_CLI',
  postgresUrl: 'GATEHOUSE_TEST_POSTGRES_URL',
} as const;

export interface TestPostgres {
  readonly host: string;
  readonly port: number;
  /** The superuser and its password (random per cluster). */
  readonly user: string;
  readonly password: string;
  /** URL of the maintenance database `postgres` (for CREATE / DROP DATABASE). */
  readonly adminUrl: string;
  /** URL of `database` on this server. */
  urlFor(database: string): string;
}

export interface TestServers {
  /** `host:port` of the Temporal frontend. */
  readonly temporalAddress: string;
  readonly namespace: string;
  /** Path of the Temporal CLI binary (tests that restart a server use it). */
  readonly temporalCliPath: string;
  readonly postgres: TestPostgres;
}

export interface TestDatabase {
  /** URL of the fresh database. */
  readonly url: string;
  /** A pool on it; closed by `drop()`. */
  readonly pool: pg.Pool;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

let servers: Promise<TestServers> | undefined;

/** The suite's servers: from the global runner's environment, or started for this process. */
export function getTestServers(): Promise<TestServers> {
  servers ??= fromEnv() ?? startOwn();
  return servers;
}

/** A fresh database named `<prefix>_<random>` with every migration applied. */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const { postgres } = await getTestServers();
  const safe = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 40) || 'test';
  const name = `${safe}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgres.adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = postgres.urlFor(name);
  const pool = new pg.Pool({ connectionString: url, max: 10, idleTimeoutMillis: 1000, allowExitOnIdle: true });
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    // pool.end() resolves once its clients are asked to end, not once their sockets closed: the
    // DROP … WITH (FORCE) below may terminate one still closing, which the pool would re-emit as
    // an unhandled 'error' (seen as "terminating connection due to administrator command").
    pool.on('error', () => undefined);
    await pool.end().catch(() => undefined);
    const client = new pg.Client({ connectionString: postgres.adminUrl });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
    } finally {
      await client.end();
    }
  };
  try {
    await migrate(pool);
  } catch (err) {
    await drop().catch(() => undefined);
    throw err;
  }
  return { url, pool, drop };
}

function testPostgres(adminUrl: string): TestPostgres {
  const parsed = new URL(adminUrl);
  return {
    host: parsed.hostname,
    port: Number(parsed.port),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    adminUrl,
    urlFor(database: string) {
      const u = new URL(adminUrl);
      u.pathname = `/${encodeURIComponent(database)}`;
      return u.toString();
    },
  };
}

function fromEnv(): Promise<TestServers> | undefined {
  const temporalAddress = process.env[TEST_ENV.temporalAddress];
  const postgresUrl = process.env[TEST_ENV.postgresUrl];
  if (!temporalAddress || !postgresUrl) return undefined;
  return Promise.resolve({
    temporalAddress,
    namespace: process.env[TEST_ENV.namespace] || 'default',
    temporalCliPath: process.env[TEST_ENV.temporalCliPath] || '',
    postgres: testPostgres(postgresUrl),
  });
}

/** Starts a private pair for a file run alone; both stop when the event loop runs dry. */
async function startOwn(): Promise<TestServers> {
  const temporalCliPath = await findTemporalCli();
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-test-pg-'));
  // Fallback if the process exits without the graceful stop below (the groups get SIGKILL).
  process.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const [temporal, postgres] = await Promise.all([
    startTemporalDevServer({ cliPath: temporalCliPath, uiPort: false }),
    startEmbeddedPostgres({ dataDir, noFsync: true, removeDataDirOnStop: true }),
  ]);
  // The servers must not keep the file's process alive once its tests are done.
  temporal.unref();
  postgres.unref();
  let stopping = false;
  process.on('beforeExit', () => {
    if (stopping) return;
    stopping = true;
    void Promise.allSettled([temporal.stop(), postgres.stop()]).then(() => rm(dataDir, { recursive: true, force: true }));
  });
  return {
    temporalAddress: temporal.address,
    namespace: temporal.namespace,
    temporalCliPath,
    postgres: testPostgres(postgres.urlFor('postgres')),
  };
}
