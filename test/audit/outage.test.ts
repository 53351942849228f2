/**
 * PostgreSQL going away and coming back, through a TCP proxy the test controls: appends during
 * the outage fail with the retryable `AuditUnavailableError` and write nothing; once the database
 * is reachable again the same store (same pool, same remembered chain heads) continues the
 * session where it was, and a retry of a batch whose commit outcome was unknown lands once.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { AuditStore } from '../../audit/store';
import { AuditUnavailableError } from '../../audit/errors';
import { verifyDatabase } from '../../audit/verify';
import { createTestDatabase, type TestDatabase } from '../support/servers';
import { incidentSession } from './fixtures';
import { testTrust } from '../support/trust';

const { keyset } = testTrust();

let db: TestDatabase;

before(async () => {
  db = await createTestDatabase('audit_outage');
});
after(async () => {
  await db?.drop();
});

/** A TCP proxy to the test database that can be cut (every connection dropped, new ones refused) and restored. */
async function proxy(target: URL): Promise<{ url: string; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let up = true;
  const server: Server = createServer((client) => {
    if (!up) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const url = new URL(target.toString());
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString(),
    cut() {
      up = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore() {
      up = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('an outage is retryable and the session resumes where it was', async () => {
  const p = await proxy(new URL(db.url));
  const pool = new pg.Pool({ connectionString: p.url, max: 4, connectionTimeoutMillis: 2_000 });
  pool.on('error', () => undefined);
  const store = new AuditStore(pool);
  const s = incidentSession('o-1', '2026-11-01T10:00:00Z');
  try {
    await store.startSession(s.record);
    assert.deepEqual(await store.append(s.events.slice(0, 4)), { inserted: 4, duplicates: 0 });

    p.cut();
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const err = await store.append(s.events.slice(4, 7)).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof AuditUnavailableError, `attempt ${attempt}: ${String(err)}`);
      assert.equal(err.retryable, true);
    }
    const direct = await db.pool.query('SELECT count(*)::int AS n FROM events WHERE session_id = $1', ['o-1']);
    assert.equal(direct.rows[0].n, 4);

    p.restore();
    // The activity's retry: the same batch, through the same store and pool.
    assert.deepEqual(await store.append(s.events.slice(4, 7)), { inserted: 3, duplicates: 0 });
    assert.deepEqual(await store.append(s.events.slice(7)), { inserted: s.events.length - 7, duplicates: 0 });
    // Retrying a batch that already landed (its activity timed out after the commit): recorded once.
    assert.deepEqual(await store.append(s.events.slice(7)), { inserted: 0, duplicates: s.events.length - 7 });
    const report = await verifyDatabase(db.pool, { sessionId: 'o-1', keyset });
    assert.equal(report.ok, true);
    assert.equal(report.eventsChecked, s.events.length);
  } finally {
    await pool.end().catch(() => undefined);
    await p.close();
  }
});
