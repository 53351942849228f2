/**
 * Smoke test of the real PostgreSQL the suite runs on, and of the migration runner: a query
 * round trip, each migration applied once and recorded, a failing file rolled back whole.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { migrate, MigrationError, migrationFiles } from '../../audit/migrate';
import { createTestDatabase, type TestDatabase } from '../support/servers';

let db: TestDatabase;
let scratch: string;

before(async () => {
  db = await createTestDatabase('foundation_pg');
  scratch = await mkdtemp(join(tmpdir(), 'gatehouse-migrations-'));
});

after(async () => {
  await db?.drop();
  await rm(scratch, { recursive: true, force: true });
});

test('a query round trip through the real server', async () => {
  await db.pool.query('CREATE TABLE smoke (id serial PRIMARY KEY, body jsonb NOT NULL)');
  const body = { tool: 'billing.query', rows: [1, 2, 3], note: 'ünïcode ✓' };
  const inserted = await db.pool.query<{ id: number }>('INSERT INTO smoke (body) VALUES ($1) RETURNING id', [body]);
  const { rows } = await db.pool.query<{ body: unknown }>('SELECT body FROM smoke WHERE id = $1', [inserted.rows[0]?.id]);
  assert.deepEqual(rows[0]?.body, body);
});

test('the fresh database has every shipped migration recorded, in order', async () => {
  const { rows } = await db.pool.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY applied_at, name');
  assert.deepEqual(
    rows.map((r) => r.name),
    await migrationFiles(),
  );
});

test('migrate applies each file once, in filename order, and is idempotent', async () => {
  await writeFile(join(scratch, '002_second.sql'), 'INSERT INTO mig_order (name) VALUES (\'second\');');
  await writeFile(join(scratch, '001_first.sql'), 'CREATE TABLE mig_order (n serial, name text); INSERT INTO mig_order (name) VALUES (\'first\');');
  await writeFile(join(scratch, 'notes.txt'), 'not a migration');
  assert.deepEqual(await migrate(db.pool, scratch), ['001_first.sql', '002_second.sql']);
  assert.deepEqual(await migrate(db.pool, scratch), []);
  const { rows } = await db.pool.query<{ name: string }>('SELECT name FROM mig_order ORDER BY n');
  assert.deepEqual(rows.map((r) => r.name), ['first', 'second']);
});

test('concurrent migrate calls apply each file exactly once', async () => {
  await writeFile(join(scratch, '003_counter.sql'), 'INSERT INTO mig_order (name) VALUES (\'third\');');
  const results = await Promise.all([migrate(db.pool, scratch), migrate(db.pool, scratch), migrate(db.pool, scratch)]);
  assert.deepEqual(results.flat(), ['003_counter.sql']);
  const { rows } = await db.pool.query('SELECT 1 FROM mig_order WHERE name = \'third\'');
  assert.equal(rows.length, 1);
});

test('a failing migration is rolled back whole and not recorded', async () => {
  await writeFile(join(scratch, '004_broken.sql'), 'CREATE TABLE half_done (id int); SELECT * FROM no_such_table;');
  await assert.rejects(migrate(db.pool, scratch), (err: unknown) => {
    assert.ok(err instanceof MigrationError);
    assert.equal(err.type, 'MigrationError');
    assert.equal(err.file, '004_broken.sql');
    assert.match(err.message, /^while applying migration `004_broken.sql`: .*no_such_table/);
    return true;
  });
  const table = await db.pool.query("SELECT to_regclass('half_done') AS t");
  assert.equal(table.rows[0]?.t, null);
  const recorded = await db.pool.query("SELECT 1 FROM schema_migrations WHERE name = '004_broken.sql'");
  assert.equal(recorded.rowCount, 0);
});
