/**
 * Demo data of the sample "production" database: customers, two years of real invoices, a load
 * test's leftovers (≥ 14,200 billing records tagged as test data, billed last month), services
 * with replicas, environment variables and versioned secrets, and volumes with their mounts.
 * Idempotent: the schema is `IF NOT EXISTS` and the data goes in once (marked in `sample_seed`),
 * under an advisory lock so concurrent callers do not race. That marker row is also how the demo
 * tells the sample database from a real one before it writes anything (`assertSampleDatabase`).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool, PoolClient } from 'pg';
import { previousMonth, monthRange } from './common';

/** Real customers (fixed ids, so demos and tests can name them). */
export const SAMPLE_CUSTOMERS = [
  { id: 'c0ffee00-0000-4000-8000-000000000001', name: 'Acme Corp', email: 'billing@acme.example', currency: 'USD' },
  { id: 'c0ffee00-0000-4000-8000-000000000002', name: 'Globex', email: 'ap@globex.example', currency: 'USD' },
  { id: 'c0ffee00-0000-4000-8000-000000000003', name: 'Initech', email: 'finance@initech.example', currency: 'EUR' },
  { id: 'c0ffee00-0000-4000-8000-000000000004', name: 'Umbrella', email: 'billing@umbrella.example', currency: 'EUR' },
  { id: 'c0ffee00-0000-4000-8000-000000000005', name: 'Hooli', email: 'ar@hooli.example', currency: 'USD' },
  { id: 'c0ffee00-0000-4000-8000-000000000006', name: 'Stark Industries', email: 'pay@stark.example', currency: 'USD' },
] as const;

/** Customers created by last month's load test; every record they own is tagged `is_test`. */
export const SAMPLE_TEST_CUSTOMERS = [
  { id: '7e570000-0000-4000-8000-000000000001', name: 'QA Load Test 1', email: 'qa1@test.invalid', currency: 'USD' },
  { id: '7e570000-0000-4000-8000-000000000002', name: 'QA Load Test 2', email: 'qa2@test.invalid', currency: 'USD' },
  { id: '7e570000-0000-4000-8000-000000000003', name: 'QA Load Test 3', email: 'qa3@test.invalid', currency: 'USD' },
] as const;

/** How many test billing records the seed leaves in last month. */
export const SAMPLE_TEST_RECORDS = 14_237;

/** Months of real invoices per customer (the current month included). */
const HISTORY_MONTHS = 24;

export const SAMPLE_SERVICES = [
  { name: 'api', replicas: 3 },
  { name: 'web', replicas: 4 },
  { name: 'billing-worker', replicas: 2 },
  { name: 'payments', replicas: 2 },
  { name: 'search', replicas: 1 },
] as const;

export const SAMPLE_VOLUMES = [
  { id: 'vol-db01', name: 'primary database', sizeGb: 500, mounts: [{ service: 'api', path: '/var/lib/postgresql' }] },
  { id: 'vol-logs01', name: 'service logs', sizeGb: 200, mounts: [{ service: 'api', path: '/var/log/api' }, { service: 'web', path: '/var/log/web' }] },
  { id: 'vol-cache01', name: 'web cache', sizeGb: 50, mounts: [{ service: 'web', path: '/var/cache/web' }] },
  { id: 'vol-scratch01', name: 'scratch space', sizeGb: 100, mounts: [] },
  { id: 'vol-backup-2024', name: 'old backups', sizeGb: 800, mounts: [] },
] as const;

const ENV: readonly (readonly [string, string, string])[] = [
  ['api', 'LOG_LEVEL', 'info'],
  ['api', 'DATABASE_URL', 'postgres://api:hunter2@db.internal:5432/prod'],
  ['api', 'FEATURE_FLAGS', 'search-v2,fast-invoices'],
  ['web', 'LOG_LEVEL', 'warn'],
  ['payments', 'STRIPE_MODE', 'live'],
  ['billing-worker', 'BATCH_SIZE', '500'],
];

const SECRETS: readonly (readonly [string, string, number])[] = [
  ['api', 'db-password', 3],
  ['payments', 'stripe-key', 2],
  ['web', 'session-key', 1],
  ['billing-worker', 'smtp-password', 1],
];

/** The schema of the sample database (`schema.sql`, next to this file). */
export function sampleSchemaSql(): string {
  return readFileSync(join(__dirname, 'schema.sql'), 'utf8');
}

export interface SeedResult {
  /** False when the data was already there (nothing was inserted). */
  readonly seeded: boolean;
  /** `YYYY-MM` of the month the test records were billed in. */
  readonly testMonth: string;
  readonly testRecords: number;
}

/** The advisory lock every writer of the sample data takes, so concurrent callers do not race. */
export const SAMPLE_SEED_LOCK = 'gatehouse.sample_seed';

/**
 * Creates the sample schema and inserts the demo data once. `now` fixes "last month" (default:
 * the current time).
 */
export async function seedSampleProduction(pool: Pool, opts: { readonly now?: Date } = {}): Promise<SeedResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [SAMPLE_SEED_LOCK]);
    const result = await seedInTransaction(client, opts.now ?? new Date());
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * What `seedSampleProduction` does, inside the caller's transaction (which holds
 * {@link SAMPLE_SEED_LOCK}): `resetSampleProduction` empties the tables and seeds them again in one
 * transaction, so a failed seed never leaves the database without its marker.
 */
export async function seedInTransaction(client: Pick<PoolClient, 'query'>, now: Date): Promise<SeedResult> {
  await client.query(sampleSchemaSql());
  const done = await client.query<{ test_month: string }>('SELECT test_month FROM sample_seed WHERE id = 1');
  const seededMonth = done.rows[0]?.test_month;
  if (seededMonth !== undefined) return { seeded: false, testMonth: seededMonth, testRecords: await countTest(client, seededMonth) };
  const testMonth = previousMonth(now);
  for (const c of [...SAMPLE_CUSTOMERS, ...SAMPLE_TEST_CUSTOMERS]) {
    await client.query('INSERT INTO customers (id, name, email, currency) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING', [
      c.id,
      c.name,
      c.email,
      c.currency,
    ]);
  }
  // Real invoices: one subscription charge and one usage charge per customer and month.
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  await client.query(
    `INSERT INTO billing_records (customer_id, amount_cents, currency, description, billed_at, is_test)
     SELECT c.id, (4900 + (abs(hashtext(c.id::text || m::text)) % 50000))::bigint * k, c.currency,
            CASE k WHEN 1 THEN 'subscription' ELSE 'usage' END,
            ($1::timestamptz - make_interval(months => m)) + make_interval(days => 2 + k * 5, hours => 9),
            false
       FROM customers c, generate_series(0, $2::int - 1) AS m, generate_series(1, 2) AS k
      WHERE c.id = ANY($3::uuid[])
        AND ($1::timestamptz - make_interval(months => m)) + make_interval(days => 2 + k * 5, hours => 9) <= $4`,
    [monthStart, HISTORY_MONTHS, SAMPLE_CUSTOMERS.map((c) => c.id), now],
  );
  await insertTestRecords(client, testMonth);
  for (const s of SAMPLE_SERVICES) {
    await client.query('INSERT INTO services (name, replicas) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [s.name, s.replicas]);
  }
  for (const [service, key, value] of ENV) {
    await client.query('INSERT INTO service_env (service, key, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [service, key, value]);
  }
  for (const [service, name, versions] of SECRETS) {
    await client.query('INSERT INTO secrets (service, name, current_version) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [service, name, versions]);
    for (let v = 1; v <= versions; v++) {
      await client.query('INSERT INTO secret_versions (service, name, version, material) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
        service,
        name,
        v,
        randomBytes(32).toString('base64url'),
      ]);
    }
  }
  for (const v of SAMPLE_VOLUMES) {
    await client.query(
      'INSERT INTO volumes (id, name, size_gb, status) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING',
      [v.id, v.name, v.sizeGb, v.mounts.length > 0 ? 'in-use' : 'available'],
    );
    for (const m of v.mounts) {
      await client.query('INSERT INTO volume_mounts (volume_id, service, mount_path) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [v.id, m.service, m.path]);
    }
    await client.query(
      `INSERT INTO volume_blocks (volume_id, block_no, checksum)
       SELECT $1, b, md5($1 || b::text) FROM generate_series(1, 16) AS b ON CONFLICT DO NOTHING`,
      [v.id],
    );
  }
  // The marker: this database is the sample one (`gatehouse demo` writes only where it finds it).
  await client.query('INSERT INTO sample_seed (id, seeded_at, test_month) VALUES (1, $1, $2)', [now, testMonth]);
  return { seeded: true, testMonth, testRecords: SAMPLE_TEST_RECORDS };
}

/** Thrown when a database that `gatehouse demo` would write to is not the sample one. */
export class NotSampleDatabaseError extends Error {
  readonly type = 'NotSampleDatabaseError';
  constructor(readonly database: string) {
    super(
      `refusing to write to database \`${database}\`: it is not gatehouse's sample production database (no \`sample_seed\` marker row): ` +
        'the demo writes only to the sample database `gatehouse start` seeds; unset GATEHOUSE_PRODUCTION_DATABASE_URL or point it at that database',
    );
    this.name = 'NotSampleDatabaseError';
  }
}

/** True when the database holds the marker row the seed writes last: it is the sample database. */
export async function holdsSampleSeedMarker(client: Pick<PoolClient, 'query'>): Promise<boolean> {
  const table = await client.query<{ present: boolean }>("SELECT to_regclass('sample_seed') IS NOT NULL AS present");
  if (!table.rows[0]?.present) return false;
  const marker = await client.query('SELECT 1 FROM sample_seed WHERE id = 1');
  return (marker.rowCount ?? 0) > 0;
}

/** Throws {@link NotSampleDatabaseError} unless the database holds the sample seed's marker row. */
export async function assertSampleDatabase(client: Pick<PoolClient, 'query'>): Promise<void> {
  if (await holdsSampleSeedMarker(client)) return;
  const named = await client.query<{ name: string }>('SELECT current_database() AS name');
  throw new NotSampleDatabaseError(named.rows[0]?.name ?? '');
}

/** The load test's leftovers: `SAMPLE_TEST_RECORDS` rows spread over `month`, across the QA customers. */
export async function insertTestRecords(client: Pick<PoolClient, 'query'>, month: string): Promise<void> {
  const { start, end } = monthRange(month);
  await client.query(
    `INSERT INTO billing_records (customer_id, amount_cents, currency, description, billed_at, is_test)
     SELECT ($1::uuid[])[1 + (i % 3)], 100 + (i * 37) % 9900, 'USD', 'load test charge #' || i,
            $2::timestamptz + (($3::timestamptz - $2::timestamptz) * (i::float8 / ($4::int + 1))),
            true
       FROM generate_series(1, $4::int) AS i`,
    [SAMPLE_TEST_CUSTOMERS.map((c) => c.id), start, end, SAMPLE_TEST_RECORDS],
  );
}

async function countTest(client: Pick<PoolClient, 'query'>, month: string): Promise<number> {
  const { start, end } = monthRange(month);
  const r = await client.query('SELECT count(*)::int AS n FROM billing_records WHERE is_test AND billed_at >= $1 AND billed_at < $2', [start, end]);
  return r.rows[0].n as number;
}
