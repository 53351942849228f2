/**
 * Putting the sample "production" data back, so every demo can run any number of times: the
 * billing demo's approved delete removes the load test's records, the volume demo's approved
 * unmount removes a mount. `restoreTestRecords` brings back the test records of the seeded month
 * (what `gatehouse demo billing-cleanup` needs); `resetSampleProduction` empties every sample
 * table and seeds it again (`gatehouse demo reset`).
 */
import type { Pool } from 'pg';
import { monthRange } from './common';
import { assertSampleDatabase, insertTestRecords, SAMPLE_SEED_LOCK, SAMPLE_TEST_CUSTOMERS, SAMPLE_TEST_RECORDS, SAMPLE_VOLUMES, seedInTransaction, type SeedResult } from './seed';

const SAMPLE_TABLES = ['secret_versions', 'secrets', 'service_env', 'services', 'volume_blocks', 'volume_mounts', 'volumes', 'billing_records', 'customers', 'staging_config', 'sample_seed'] as const;

/**
 * Brings the seeded month's test billing records back to the full set when some were deleted.
 * Returns how many records were missing (0: nothing changed). Real records are never touched.
 */
export async function restoreTestRecords(pool: Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [SAMPLE_SEED_LOCK]);
    const seeded = await client.query<{ test_month: string }>('SELECT test_month FROM sample_seed WHERE id = 1');
    const month = seeded.rows[0]?.test_month;
    if (!month) throw new Error('the sample production data was never seeded: start the stack with `npm start`');
    const { start, end } = monthRange(month);
    const counted = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM billing_records WHERE is_test AND billed_at >= $1 AND billed_at < $2', [start, end]);
    const missing = SAMPLE_TEST_RECORDS - (counted.rows[0]?.n ?? 0);
    if (missing > 0) {
      await client.query('DELETE FROM billing_records WHERE is_test AND customer_id = ANY($1::uuid[]) AND billed_at >= $2 AND billed_at < $3', [SAMPLE_TEST_CUSTOMERS.map((c) => c.id), start, end]);
      await insertTestRecords(client, month);
    }
    await client.query('COMMIT');
    return Math.max(0, missing);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Puts back every sample volume and mount an earlier run removed (volumes, mounts, blocks,
 * statuses). Returns how many mounts were missing (0: nothing changed). Refuses a database
 * without the sample seed's marker row (`NotSampleDatabaseError`), writing nothing.
 */
export async function restoreVolumes(pool: Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await assertSampleDatabase(client);
    let missing = 0;
    for (const v of SAMPLE_VOLUMES) {
      await client.query('INSERT INTO volumes (id, name, size_gb, status) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING', [v.id, v.name, v.sizeGb, 'available']);
      for (const m of v.mounts) {
        const added = await client.query('INSERT INTO volume_mounts (volume_id, service, mount_path) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [v.id, m.service, m.path]);
        missing += added.rowCount ?? 0;
      }
      await client.query(`INSERT INTO volume_blocks (volume_id, block_no, checksum) SELECT $1, b, md5($1 || b::text) FROM generate_series(1, 16) AS b ON CONFLICT DO NOTHING`, [v.id]);
      await client.query(`UPDATE volumes SET status = CASE WHEN EXISTS (SELECT 1 FROM volume_mounts WHERE volume_id = $1) THEN 'in-use' ELSE 'available' END WHERE id = $1`, [v.id]);
    }
    await client.query('COMMIT');
    return missing;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Options of {@link resetSampleProduction}. */
export interface ResetOptions {
  /** Fixes "last month" of the new seed. @default the current time */
  readonly now?: Date;
  /**
   * The caller knows this is the running stack's embedded sample database, so the reset goes ahead
   * even without the seed's marker row. @default false: the marker row must be there
   */
  readonly embedded?: boolean;
}

/**
 * Empties every sample table and seeds the data again, in one transaction. Refuses with
 * `NotSampleDatabaseError`, writing nothing, unless the database holds the sample seed's marker
 * row (or `embedded` says it is the stack's own): a real database with a `customers` table of its
 * own must never be emptied by a demo.
 */
export async function resetSampleProduction(pool: Pool, opts: ResetOptions = {}): Promise<SeedResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [SAMPLE_SEED_LOCK]);
    if (opts.embedded !== true) await assertSampleDatabase(client);
    const present = await client.query<{ name: string }>('SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY($1::text[])', [SAMPLE_TABLES]);
    if (present.rows.length > 0) await client.query(`TRUNCATE ${present.rows.map((r) => `"${r.name}"`).join(', ')}`);
    const seeded = await seedInTransaction(client, opts.now ?? new Date());
    await client.query('COMMIT');
    return seeded;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
