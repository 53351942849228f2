/**
 * No constant secrets: the embedded PostgreSQL's superuser password is random per cluster, kept in
 * a 0600 file beside it and reused on every start; a cluster made with the old constant password
 * (`gatehouse`) is rotated to a random one at its next start.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../worker/devstack/postgres';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'gatehouse-pg-password-'));
  await chmod(root, 0o755); // the postgres user must get through when running as root
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Connects as the superuser with `password`; resolves with the error code, or 'ok'. */
async function login(server: EmbeddedPostgres, password: string): Promise<string> {
  const client = new pg.Client({ host: '127.0.0.1', port: server.port, user: server.user, password, database: 'postgres' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

test('two clusters get different random passwords, each in a 0600 file; a restart reuses it', async () => {
  const a = await startEmbeddedPostgres({ dataDir: join(root, 'a'), noFsync: true });
  let b: EmbeddedPostgres | undefined;
  try {
    b = await startEmbeddedPostgres({ dataDir: join(root, 'b'), noFsync: true });
    assert.notEqual(a.password, b.password);
    assert.ok(a.password.length >= 32, 'a long random password');
    for (const s of [a, b]) {
      assert.equal(s.passwordFile, `${s.dataDir}.password`);
      assert.equal(statSync(s.passwordFile).mode & 0o777, 0o600);
      assert.equal(readFileSync(s.passwordFile, 'utf8').trim(), s.password);
      assert.equal(await login(s, s.password), 'ok');
      assert.equal(await login(s, 'gatehouse'), '28P01', 'the old constant password is refused');
      assert.ok(s.urlFor('x').includes(encodeURIComponent(s.password)));
    }
    assert.equal(await login(a, b.password), '28P01', "one cluster's password does not open another");
  } finally {
    await a.stop();
    await b?.stop();
  }
  const again = await startEmbeddedPostgres({ dataDir: join(root, 'a'), noFsync: true });
  try {
    assert.equal(again.password, a.password, 'the restart reuses the kept password');
    assert.equal(await login(again, a.password), 'ok');
  } finally {
    await again.stop();
  }
});

test('a cluster made with the old constant password starts, and is rotated to a random one', async () => {
  const dataDir = join(root, 'legacy');
  const first = await startEmbeddedPostgres({ dataDir, noFsync: true });
  // What a data dir from before looks like: the constant password, and no password file.
  const admin = new pg.Client({ connectionString: first.urlFor('postgres') });
  await admin.connect();
  await admin.query("ALTER ROLE postgres PASSWORD 'gatehouse'");
  await admin.end();
  await first.stop();
  await rm(first.passwordFile);

  const rotated = await startEmbeddedPostgres({ dataDir, noFsync: true });
  try {
    assert.notEqual(rotated.password, 'gatehouse');
    assert.notEqual(rotated.password, first.password);
    assert.equal(readFileSync(rotated.passwordFile, 'utf8').trim(), rotated.password);
    assert.equal(statSync(rotated.passwordFile).mode & 0o777, 0o600);
    assert.equal(await login(rotated, rotated.password), 'ok');
    assert.equal(await login(rotated, 'gatehouse'), '28P01', 'the constant password no longer opens it');
  } finally {
    await rotated.stop();
  }
});
