/**
 * The in-memory revocation list against a real PostgreSQL: it loads what is revoked, follows
 * revocations made by other connections (the trigger's notifications), and never answers from a
 * stale memory: with its listener killed it asks the table, and when it listens again it reloads.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RevocationStore } from '../../audit/credentials';
import { RevocationCache } from '../../audit/revocation-cache';
import { eventually } from '../support/eventually';
import { createTestDatabase, type TestDatabase } from '../support/servers';

let db: TestDatabase;
let store: RevocationStore;
const ISSUED_BEFORE = new Date(Date.now() - 60_000).toISOString();
const issuedNow = () => new Date(Date.now() + 1_000).toISOString();

/** Ends the cache's listening connection from the server side, as a failover or a restart would. */
async function killListener(): Promise<void> {
  const { rowCount } = await db.pool.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'SELECT agent_id, revoked_at FROM agent_revocations%'`,
  );
  assert.ok((rowCount ?? 0) >= 1, 'the listener connection was found');
}

before(async () => {
  db = await createTestDatabase('revocation_cache');
  store = new RevocationStore(db.pool);
});
after(async () => {
  await db?.drop();
});

describe('RevocationCache', () => {
  test('loads the list, then follows revocations and their removal made elsewhere', async () => {
    await store.revoke('early-bot', 'ops', 'leaked');
    const cache = await RevocationCache.open(db.pool);
    try {
      assert.equal(cache.live, true);
      assert.equal(await cache.isRevoked('early-bot', ISSUED_BEFORE), true);
      assert.equal(await cache.isRevoked('early-bot', issuedNow()), false, 'a credential issued after the revocation stands');
      assert.equal(await cache.isRevoked('late-bot', ISSUED_BEFORE), false);

      await store.revoke('late-bot', 'ops');
      await eventually(() => cache.isRevoked('late-bot', ISSUED_BEFORE), { what: 'the notified revocation' });
      assert.equal(cache.live, true, 'answered from memory, not by falling back');

      await db.pool.query('DELETE FROM agent_revocations WHERE agent_id = $1', ['late-bot']);
      await eventually(async () => !(await cache.isRevoked('late-bot', ISSUED_BEFORE)), { what: 'the removal' });
    } finally {
      await cache.close();
    }
  });

  test('with its listener gone it asks the table: a revocation made meanwhile is refused at once', async () => {
    const errors: unknown[] = [];
    const cache = await RevocationCache.open(db.pool, { reconnectMs: 3_600_000, onError: (err) => errors.push(err) });
    try {
      assert.equal(cache.live, true);
      await killListener();
      await eventually(() => !cache.live, { what: 'the cache to notice its listener is gone' });
      assert.equal(errors.length, 1);
      await store.revoke('while-down-bot', 'ops');
      assert.equal(await cache.isRevoked('while-down-bot', ISSUED_BEFORE), true);
    } finally {
      await cache.close();
    }
  });

  test('listens again and reloads the whole list, so nothing revoked while it was away is missed', async () => {
    const errors: unknown[] = [];
    const cache = await RevocationCache.open(db.pool, { reconnectMs: 50, onError: (err) => errors.push(err) });
    try {
      await killListener();
      await store.revoke('missed-bot', 'ops');
      await eventually(() => errors.length > 0, { what: 'the cache to notice its listener is gone' });
      await eventually(() => cache.live, { what: 'the cache to listen again' });
      assert.equal(await cache.isRevoked('missed-bot', ISSUED_BEFORE), true);
    } finally {
      await cache.close();
    }
  });
});
