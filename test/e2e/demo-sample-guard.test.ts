/**
 * `gatehouse demo` writes only to the sample production database: pointed by
 * `GATEHOUSE_PRODUCTION_DATABASE_URL` at a database of someone else's (its own `customers` table),
 * `demo reset` and the scenarios refuse, exit non-zero and leave it exactly as it was; the sample
 * database itself (the seed's marker row) is reset as before.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAMPLE_TEST_RECORDS, seedSampleProduction } from '../../activities/tools/sample/seed';
import { isEmbeddedSampleDatabase } from '../../demo/context';
import type { StackFile } from '../../client/config';
import { createTestDatabase, type TestDatabase } from '../support/servers';
import { runCli } from './processes';

const REAL_CUSTOMERS = ['5eed0000-0000-4000-8000-00000000000a', '5eed0000-0000-4000-8000-00000000000b'] as const;
let scratch: string;
let unrelated: TestDatabase;
let sample: TestDatabase;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'gh-demo-guard-'));
  unrelated = await createTestDatabase('demo_guard_unrelated');
  // Shaped so the sample seed would fit it: without the check, a reset would empty it and fill it with demo rows.
  await unrelated.pool.query('CREATE TABLE customers (id uuid PRIMARY KEY, name text NOT NULL, email text NOT NULL, currency text NOT NULL)');
  await unrelated.pool.query(`INSERT INTO customers VALUES ('${REAL_CUSTOMERS[0]}', 'a real customer', 'a@real.example', 'USD'), ('${REAL_CUSTOMERS[1]}', 'another one', 'b@real.example', 'EUR')`);
  sample = await createTestDatabase('demo_guard_sample');
  await seedSampleProduction(sample.pool);
});
after(async () => {
  await unrelated?.drop();
  await sample?.drop();
  await rm(scratch, { recursive: true, force: true });
});

/** The environment of a `gatehouse` command aimed at `productionUrl`, with no running stack to fall back on. */
function envFor(productionUrl: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GATEHOUSE_PRODUCTION_DATABASE_URL: productionUrl,
    GATEHOUSE_STACK_FILE: join(scratch, 'no-stack.json'),
    DATABASE_URL: unrelated.url,
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    GATEHOUSE_KEYS: join(scratch, 'no-keyset.json'),
  };
}

async function unrelatedState(): Promise<{ customers: unknown[]; sampleSeed: unknown; billingRecords: unknown }> {
  const customers = (await unrelated.pool.query('SELECT id, name FROM customers ORDER BY id')).rows;
  const tables = (await unrelated.pool.query("SELECT to_regclass('sample_seed') AS sample_seed, to_regclass('billing_records') AS billing_records")).rows[0];
  return { customers, sampleSeed: tables.sample_seed, billingRecords: tables.billing_records };
}

const untouched = { customers: [{ id: REAL_CUSTOMERS[0], name: 'a real customer' }, { id: REAL_CUSTOMERS[1], name: 'another one' }], sampleSeed: null, billingRecords: null };
const refusal = /refusing to write to database `postgres:\/\/[^`]*\/demo_guard_unrelated_[0-9a-f]+`: it is not gatehouse's sample production database \(no `sample_seed` marker row\)/;

describe('gatehouse demo against a database that is not the sample one', () => {
  it('`demo reset` refuses, exits non-zero, and writes nothing', async () => {
    const r = await runCli(['demo', 'reset'], envFor(unrelated.url), 60_000);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, refusal);
    const password = new URL(unrelated.url).password;
    assert.ok(password.length > 0);
    assert.ok(!r.stderr.includes(password), 'the password is not printed');
    assert.deepEqual(await unrelatedState(), untouched);
  });

  it('a scenario refuses before it connects or writes anything', async () => {
    const r = await runCli(['demo', 'volume-cleanup'], envFor(unrelated.url), 60_000);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, refusal);
    assert.deepEqual(await unrelatedState(), untouched);
  });
});

describe('gatehouse demo reset of the sample database', () => {
  it('puts the deleted test records back', async () => {
    await sample.pool.query('DELETE FROM billing_records WHERE is_test');
    const r = await runCli(['demo', 'reset'], envFor(sample.url), 120_000);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /sample production data reset: 14,237 test billing records in \d{4}-\d{2}/);
    const n = (await sample.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM billing_records WHERE is_test')).rows[0]?.n;
    assert.equal(n, SAMPLE_TEST_RECORDS);
    assert.equal((await sample.pool.query('SELECT 1 FROM sample_seed WHERE id = 1')).rowCount, 1, 'the marker is back');
  });
});

describe('the running stack\'s embedded sample database', () => {
  const stack = { postgres: { port: 54321, dataDir: '/x' } } as unknown as StackFile;
  it('is `gatehouse_production` on the stack\'s own PostgreSQL, and nothing else', () => {
    assert.equal(isEmbeddedSampleDatabase('postgres://postgres:pw@127.0.0.1:54321/gatehouse_production', stack), true);
    assert.equal(isEmbeddedSampleDatabase('postgres://postgres:pw@127.0.0.1:54321/gatehouse', stack), false);
    assert.equal(isEmbeddedSampleDatabase('postgres://postgres:pw@127.0.0.1:5432/gatehouse_production', stack), false);
    assert.equal(isEmbeddedSampleDatabase('postgres://postgres:pw@db.example:54321/gatehouse_production', stack), false);
    assert.equal(isEmbeddedSampleDatabase('postgres://postgres:pw@127.0.0.1:54321/gatehouse_production', undefined), false);
  });
});
