/**
 * Schema migrations: the plain SQL files in `audit/migrations/` applied once each, in filename
 * order, every file in its own transaction and recorded in `schema_migrations`. A session-level
 * advisory lock makes concurrent starts (two workers, a test and the stack) apply each file once.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';

/** Folder of the migration files shipped with Gatehouse. */
export const MIGRATIONS_DIR = join(__dirname, 'migrations');

/** Arbitrary constant key of the advisory lock that serialises migrations. */
const MIGRATION_LOCK_KEY = 7_305_118_221;

/** Thrown when a migration file fails; nothing of that file is kept (its transaction rolled back). */
export class MigrationError extends Error {
  readonly type = 'MigrationError';
  constructor(readonly file: string, cause: unknown) {
    super(`while applying migration \`${file}\`: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'MigrationError';
  }
}

/** Applies the migrations not yet recorded; resolves to the file names applied by this call, in order. */
export async function migrate(pool: pg.Pool, dir: string = MIGRATIONS_DIR): Promise<string[]> {
  const files = await migrationFiles(dir);
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      // Created only when missing: a runtime role (no CREATE) can then check an up-to-date schema.
      const exists = await client.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
      if (exists.rows[0]?.t == null) {
        await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
          name text PRIMARY KEY,
          checksum text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`);
      }
      const { rows } = await client.query<{ name: string }>('SELECT name FROM schema_migrations');
      const done = new Set(rows.map((r) => r.name));
      const applied: string[] = [];
      for (const file of files) {
        if (done.has(file)) continue;
        const sql = await readFile(join(dir, file), 'utf8');
        try {
          await client.query('BEGIN');
          await client.query(sql);
          await client.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [
            file,
            createHash('sha256').update(sql).digest('hex'),
          ]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new MigrationError(file, err);
        }
        applied.push(file);
      }
      return applied;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}

/** The `*.sql` files of `dir` in filename order (an absent folder means no migrations yet). */
export async function migrationFiles(dir: string = MIGRATIONS_DIR): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries.filter((f) => f.endsWith('.sql')).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
