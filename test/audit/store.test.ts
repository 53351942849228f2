/**
 * The audit store against a real PostgreSQL: append-only enforcement, exactly-once appends under
 * retries, the order guard, the session row, alerts, and an unreachable database.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import fc from 'fast-check';
import { AuditStore } from '../../audit/store';
import { AuditConflictError, AuditInputError, AuditOrderError, AuditUnavailableError, UnknownSessionError } from '../../audit/errors';
import { verifyDatabase } from '../../audit/verify';
import { createTestDatabase, type TestDatabase } from '../support/servers';
import { freePort } from '../../worker/devstack/ports';
import { incidentSession } from './fixtures';
import type { AuditEventInput } from '../../audit/types';
import { GroupWriter, LOCK_CLASS } from '../../audit/group-commit';
import { eventRecord } from '../../audit/rows';
import { GENESIS_HASH, eventHash, normalizeEvent } from '../../audit/chain';
import { readEvents } from '../../audit/queries';
import { testTrust } from '../support/trust';
import { eventually } from '../support/eventually';

const { keyset } = testTrust();

let db: TestDatabase;
let store: AuditStore;

before(async () => {
  db = await createTestDatabase('audit_store');
  store = new AuditStore(db.pool);
});
after(async () => {
  await db?.drop();
});

async function count(sessionId: string): Promise<number> {
  const r = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE session_id = $1', [sessionId]);
  return Number(r.rows[0]!.n);
}

describe('append-only', () => {
  test('UPDATE, DELETE and TRUNCATE of events are refused with a clear message', async () => {
    const s = incidentSession('ao-1', '2026-11-01T10:00:00Z');
    await store.startSession(s.record);
    await store.append(s.events);
    await assert.rejects(db.pool.query(`UPDATE events SET reasoning = 'rewritten' WHERE session_id = 'ao-1'`), /audit events are append-only: UPDATE on `events` refused/);
    await assert.rejects(db.pool.query(`DELETE FROM events WHERE session_id = 'ao-1'`), /audit events are append-only: DELETE on `events` refused/);
    await assert.rejects(db.pool.query('TRUNCATE events'), /audit events are append-only: TRUNCATE on `events` refused/);
    assert.equal(await count('ao-1'), s.events.length);
  });
});

describe('exactly once', () => {
  test('a retried append changes nothing and reports duplicates', async () => {
    const s = incidentSession('eo-1', '2026-11-01T10:00:00Z');
    await store.startSession(s.record);
    await store.startSession(s.record); // idempotent
    const first = await store.append(s.events.slice(0, 5));
    assert.deepEqual(first, { inserted: 5, duplicates: 0 });
    const again = await store.append(s.events.slice(0, 5));
    assert.deepEqual(again, { inserted: 0, duplicates: 5 });
    // A retry that overlaps what landed and carries the next events: only the new ones land,
    // chained from the stored hash.
    const overlap = await store.append(s.events.slice(3, 8));
    assert.deepEqual(overlap, { inserted: 3, duplicates: 2 });
    assert.equal(await count('eo-1'), 8);
    assert.equal((await verifyDatabase(db.pool, { sessionId: 'eo-1', keyset })).ok, true);
  });

  test('two attempts racing with the same events write each event once', async () => {
    const s = incidentSession('eo-2', '2026-11-01T10:00:00Z');
    await store.startSession(s.record);
    const results = await Promise.all([store.append(s.events), store.append(s.events), store.append(s.events)]);
    assert.equal(results.reduce((n, r) => n + r.inserted, 0), s.events.length);
    assert.equal(await count('eo-2'), s.events.length);
    assert.equal((await verifyDatabase(db.pool, { sessionId: 'eo-2', keyset })).ok, true);
  });

  test('an event whose (session, seq) is recorded with other content is a conflict: nothing written, an alert raised', async () => {
    const s = incidentSession('eo-3', '2026-11-01T10:00:00Z');
    await store.startSession(s.record);
    await store.append(s.events.slice(0, 4));
    const outcome = s.events[3]!;
    // Another writer on the same chain (a reused session id): its seq 4 and a new seq 5.
    const forged = [{ ...outcome, resultStatus: 'failed', error: 'forged' }, s.events[4]!];
    for (const writer of [store, new AuditStore(db.pool)]) {
      const err = await writer.append(forged).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof AuditConflictError, `expected AuditConflictError, got ${String(err)}`);
      assert.equal(err.type, 'AuditConflictError');
      assert.equal(err.retryable, false);
      assert.deepEqual([err.sessionId, err.seq], ['eo-3', 4]);
      assert.match(err.message, /^event 4 of session `eo-3` is already recorded with different content/);
    }
    assert.equal(await count('eo-3'), 4, 'the batch was refused whole: seq 5 did not land either');
    const row = await db.pool.query('SELECT latency_ms FROM events WHERE session_id = $1 AND seq = $2', ['eo-3', outcome.seq]);
    assert.equal(row.rows[0].latency_ms, outcome.latencyMs);
    const alerts = await db.pool.query(`SELECT kind, message FROM alerts WHERE session_id = 'eo-3'`);
    assert.deepEqual(alerts.rows.map((r: { kind: string }) => r.kind), ['audit.conflict'], 'one alert, however often the writer retries');
    assert.match(alerts.rows[0].message, /event 4 of session `eo-3`/);
    // A faithful retry of the same events is still a no-op, and the chain holds.
    assert.deepEqual(await store.append(s.events.slice(2, 4)), { inserted: 0, duplicates: 2 });
    // The chain holds; `audit verify` still names the contested seq (it cannot tell which writer came first).
    const report = await verifyDatabase(db.pool, { sessionId: 'eo-3', keyset });
    assert.deepEqual(report.broken, []);
    assert.deepEqual(report.trail.map((t) => [t.seq, t.rule]), [[4, 'trail.conflict']]);
  });

  test('a workflow task re-run after a crash re-sends an event with a new time: a retry, not a conflict', async () => {
    const s = incidentSession('eo-5', '2026-11-01T10:00:00Z');
    await store.startSession(s.record);
    await store.append(s.events.slice(0, 4));
    const resent = { ...s.events[3]!, at: '2026-11-01T10:09:59.000Z', latencyMs: 7 };
    assert.deepEqual(await new AuditStore(db.pool).append([resent, s.events[4]!]), { inserted: 1, duplicates: 1 });
    const row = await db.pool.query('SELECT at FROM events WHERE session_id = $1 AND seq = $2', ['eo-5', resent.seq]);
    assert.equal((row.rows[0].at as Date).toISOString(), new Date(s.events[3]!.at).toISOString(), 'the first write stands');
    assert.equal((await verifyDatabase(db.pool, { sessionId: 'eo-5', keyset })).ok, true);
  });

  test('the same seq twice in one batch with different content is a conflict too', async () => {
    const s = incidentSession('eo-4', '2026-11-01T10:00:00Z');
    await store.startSession(s.record);
    await assert.rejects(store.append([...s.events.slice(0, 3), { ...s.events[2]!, reasoning: 'other' }]), AuditConflictError);
    assert.equal(await count('eo-4'), 0);
    assert.deepEqual(await store.append([...s.events.slice(0, 3), s.events[2]!]), { inserted: 3, duplicates: 1 });
  });
});

describe('order guard', () => {
  test('an event before its predecessor raises a retryable error and writes nothing', async () => {
    const s = incidentSession('og-1', '2026-11-01T10:00:00Z');
    await store.startSession(s.record);
    await store.append(s.events.slice(0, 2));
    const err = await store.append(s.events.slice(3, 5)).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof AuditOrderError);
    assert.equal(err.retryable, true);
    assert.equal(err.type, 'AuditOrderError');
    assert.equal(err.seq, 4);
    assert.match(err.message, /event 4 of session `og-1` arrived before event 3/);
    // A batch with a hole rolls back whole: event 3 did not land either.
    await assert.rejects(store.append([s.events[2]!, s.events[4]!]), AuditOrderError);
    assert.equal(await count('og-1'), 2);
    // Once the predecessor is there, the retry succeeds.
    await store.append(s.events.slice(2, 5));
    assert.equal(await count('og-1'), 5);
  });

  test('the first event of a session must be seq 1', async () => {
    await assert.rejects(store.append([{ sessionId: 'og-2', seq: 2, kind: 'proposed', at: '2026-11-01T10:00:00Z' }]), AuditOrderError);
  });

  test('a malformed event is refused before the database is touched', async () => {
    await assert.rejects(store.append([{ sessionId: 'og-3', seq: -1, kind: 'proposed', at: '2026-11-01T10:00:00Z' }]), AuditInputError);
  });
});

describe('many sessions at once', () => {
  test('interleaved appends of many sessions each form a valid chain', async () => {
    const sessions = Array.from({ length: 12 }, (_, i) => incidentSession(`ms-${i}`, '2026-11-01T10:00:00Z'));
    await Promise.all(sessions.map((s) => store.startSession(s.record)));
    // One proposal's events per append, sessions concurrently, as the worker writes them.
    await Promise.all(sessions.map(async (s) => {
      for (let i = 0; i < s.events.length; i += 3) await store.append(s.events.slice(i, i + 3));
    }));
    // And one batch mixing two sessions, out of order: each is sorted and chained on its own.
    const a = incidentSession('ms-a', '2026-11-01T10:00:00Z');
    const b = incidentSession('ms-b', '2026-11-01T10:00:00Z');
    await store.startSession(a.record);
    await store.startSession(b.record);
    assert.deepEqual(await store.append([...b.events].reverse().concat(a.events)), { inserted: a.events.length + b.events.length, duplicates: 0 });
    // Every chain holds (the database also holds bare fragments of other tests: only chains are the point).
    const report = await verifyDatabase(db.pool, { keyset });
    assert.deepEqual(report.broken, []);
    for (const s of sessions) assert.equal(await count(s.record.sessionId), s.events.length);
  });
});

describe('two workers on one session', () => {
  test('stores with different remembered chain heads still write one valid chain', async () => {
    const s = incidentSession('tw-1', '2026-11-01T10:00:00Z');
    const other = new AuditStore(db.pool);
    await store.startSession(s.record);
    // Alternate writers: each one's remembered head is stale half of the time.
    for (let i = 0; i < s.events.length; i += 2) {
      const writer = (i / 2) % 2 === 0 ? store : other;
      assert.deepEqual(await writer.append(s.events.slice(i, i + 2)), { inserted: Math.min(2, s.events.length - i), duplicates: 0 });
    }
    // A retry through the writer that did not write those events.
    assert.deepEqual(await other.append(s.events.slice(0, 2)), { inserted: 0, duplicates: 2 });
    assert.equal(await count('tw-1'), s.events.length);
    assert.equal((await verifyDatabase(db.pool, { sessionId: 'tw-1', keyset })).ok, true);
  });

  test('strings that need escaping round-trip and verify', async () => {
    const weird = `it's a \\ back'slash \u0000 "quote" ${'\u{1F600}'} lone \uD800 $1 $$ ; COMMIT; --`;
    const events: AuditEventInput[] = [
      { sessionId: 'esc-1', seq: 1, kind: 'proposed', at: '2026-11-01T10:00:00Z', proposalSeq: 1, tool: weird, args: { [weird]: weird, list: [weird] }, reasoning: weird },
      { sessionId: 'esc-1', seq: 2, kind: 'failed', at: '2026-11-01T10:00:00Z', proposalSeq: 1, error: weird, latencyMs: 0.125, tokenCost: 1e21 },
    ];
    assert.deepEqual(await store.append(events), { inserted: 2, duplicates: 0 });
    const r = await db.pool.query('SELECT reasoning, error FROM events WHERE session_id = $1 ORDER BY seq', ['esc-1']);
    // PostgreSQL cannot hold NUL or a lone surrogate: each is stored (and hashed) as U+FFFD; the rest exactly.
    const stored = weird.replace(/\u0000|\uD800/g, '\uFFFD');
    assert.equal(r.rows[0].reasoning, stored);
    assert.equal(r.rows[1].error, stored);
    const args = await db.pool.query('SELECT args FROM events WHERE session_id = $1 AND seq = 1', ['esc-1']);
    assert.deepEqual(args.rows[0].args, { [stored]: stored, list: [stored] });
    assert.deepEqual((await verifyDatabase(db.pool, { sessionId: 'esc-1', keyset })).broken, [], 'the chain holds (a bare fragment: no start)');
  });
});

describe('arbitrary payloads', () => {
  // Any string (lone surrogates and NUL included) and any JSON value, written by both paths:
  // the group commit (a fresh store continuing its own head) and the general path (a retry
  // through a store that never saw the session). What is read back is what was hashed.
  const text = fc.string({ unit: 'binary', maxLength: 24 });
  const json = fc.jsonValue({ maxDepth: 3 });
  const payload = fc.record({
    tool: text, reasoning: text, error: text,
    args: fc.dictionary(text, json, { maxKeys: 4 }),
    detail: fc.dictionary(text, json, { maxKeys: 4 }),
    latencyMs: fc.double({ noNaN: true, noDefaultInfinity: true }),
  }, { requiredKeys: ['tool', 'args'] });

  test('any strings and JSON round-trip through both write paths and verify', async () => {
    let n = 0;
    await fc.assert(fc.asyncProperty(fc.array(payload, { minLength: 1, maxLength: 4 }), async (payloads) => {
      const sessionId = `prop-${n += 1}`;
      const events: AuditEventInput[] = payloads.map((p, i) => ({
        sessionId, seq: i + 1, kind: 'proposed', at: '2026-11-01T10:00:00Z', proposalSeq: i + 1, ...p,
      }));
      const writer = new AuditStore(db.pool);
      const half = Math.ceil(events.length / 2);
      assert.deepEqual(await writer.append(events.slice(0, half)), { inserted: half, duplicates: 0 });
      assert.deepEqual(await writer.append(events.slice(half)), { inserted: events.length - half, duplicates: 0 });
      assert.deepEqual(await store.append(events), { inserted: 0, duplicates: events.length });
      const stored = await readEvents(db.pool, sessionId);
      assert.deepEqual(stored.map((l) => l.event), events.map(normalizeEvent));
      assert.deepEqual((await verifyDatabase(db.pool, { sessionId, keyset })).broken, [], 'the chain holds (a bare fragment: no start)');
    }), { numRuns: 60 });
  });
});

describe('what an agent or an upstream server writes into the trail', () => {
  test('a session row is stored as PostgreSQL can store it: a tool description or an intent with a NUL or a lone surrogate does not stop the start', async () => {
    const s = incidentSession('nul-1', '2026-11-01T10:00:00Z');
    // An upstream server's listing reaches every session's catalog: one bad description must not stop them all.
    const tools = [{ name: 'evil.note', description: 'notes\u0000 \ud800here', effect: 'read', environment: 'production', resource: 'notes', argumentDefaults: { mode: 'a\u0000b' } }];
    await store.startSession({ ...s.record, intent: 'tidy\u0000 up', tools: tools as never });
    const row = (await db.pool.query('SELECT intent, tools FROM sessions WHERE session_id = $1', ['nul-1'])).rows[0];
    assert.equal(row.intent, 'tidy\ufffd up');
    assert.equal(row.tools[0].description, 'notes\ufffd \ufffdhere');
    assert.deepEqual(row.tools[0].argumentDefaults, { mode: 'a\ufffdb' });
  });

  test('an own `__proto__` key in arguments stays a key: stored, hashed and verified, not dropped', async () => {
    const s = incidentSession('proto-1', '2026-11-01T10:00:00Z');
    await store.startSession(s.record);
    // What JSON.parse gives for an agent's body: an own key named `__proto__` (a NUL makes the store scrub it).
    const args = JSON.parse('{"files":{"__proto__":{"path":"/etc/shadow","mode":"a\\u0000"}}}') as Record<string, unknown>;
    await store.append([{ sessionId: 'proto-1', seq: 1, kind: 'proposed', at: '2026-11-01T10:00:00Z', proposalSeq: 1, tool: 'fs.write', args }]);
    const [stored] = await readEvents(db.pool, 'proto-1');
    const files = (stored!.event.args as { files: object }).files;
    assert.deepEqual(Object.keys(files), ['__proto__']);
    assert.deepEqual(Object.getOwnPropertyDescriptor(files, '__proto__')?.value, { path: '/etc/shadow', mode: 'a\ufffd' });
    assert.deepEqual((await verifyDatabase(db.pool, { sessionId: 'proto-1', keyset })).broken, []);
  });
});

describe('session row and alerts', () => {
  test('patchSession merges counters and keeps absent fields; unknown sessions are refused', async () => {
    const s = incidentSession('sr-1', '2026-11-01T10:00:00Z');
    await store.startSession(s.record);
    await store.patchSession('sr-1', { mode: 'read-only', counters: { proposals: 2, executed: 1 } });
    await store.patchSession('sr-1', { counters: { proposals: 3 }, intentScore: 0.9 });
    await store.patchSession('sr-1', { finalState: 'completed', endedAt: '2026-11-01T10:05:00Z', flaggedForReview: true });
    const r = await db.pool.query('SELECT mode, counters, intent_score, final_state, ended_at, flagged_for_review, policy_hash FROM sessions WHERE session_id = $1', ['sr-1']);
    const row = r.rows[0];
    assert.equal(row.mode, 'read-only');
    assert.deepEqual(row.counters, { proposals: 3, executed: 1 });
    assert.equal(row.intent_score, 0.9);
    assert.equal(row.final_state, 'completed');
    assert.equal(row.ended_at.toISOString(), '2026-11-01T10:05:00.000Z');
    assert.equal(row.flagged_for_review, true);
    assert.equal(row.policy_hash, s.record.policyHash);
    await assert.rejects(store.patchSession('nope', { mode: 'closed' }), UnknownSessionError);
  });

  test('the same alert raised twice (a retry) is recorded once', async () => {
    await store.raiseAlert('sr-1', 'intent', 'deviation 72%', '2026-11-01T10:01:00Z');
    await store.raiseAlert('sr-1', 'intent', 'deviation 72%', '2026-11-01T10:01:00Z');
    await store.raiseAlert('sr-1', 'budget', 'x'.repeat(10_000), '2026-11-01T10:02:00Z');
    const r = await db.pool.query('SELECT kind FROM alerts WHERE session_id = $1 ORDER BY at', ['sr-1']);
    assert.deepEqual(r.rows.map((x) => x.kind), ['intent', 'budget']);
  });
});

describe('faults', () => {
  test('an unreachable database is a retryable AuditUnavailableError from every method', async () => {
    const port = await freePort();
    const pool = new pg.Pool({ connectionString: `postgres://postgres:x@127.0.0.1:${port}/audit`, connectionTimeoutMillis: 2_000 });
    pool.on('error', () => undefined);
    const down = new AuditStore(pool);
    const s = incidentSession('un-1', '2026-11-01T10:00:00Z');
    try {
      for (const attempt of [
        () => down.append(s.events),
        () => down.startSession(s.record),
        () => down.patchSession('un-1', { mode: 'closed' }),
        () => down.raiseAlert('un-1', 'k', 'm', '2026-11-01T10:00:00Z'),
      ]) {
        const err = await attempt().then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof AuditUnavailableError, String(err));
        assert.equal(err.retryable, true);
        assert.equal(err.type, 'AuditUnavailableError');
      }
    } finally {
      await pool.end();
    }
    // The real store still works: nothing else broke.
    await store.startSession(s.record);
    assert.deepEqual(await store.append(s.events.slice(0, 1)), { inserted: 1, duplicates: 0 });
  });
});

describe('group commit', () => {
  test('a group that fails for one append hands every append back, writing nothing', async () => {
    const writer = new GroupWriter(db.pool, 1);
    const item = (sessionId: string, bad = false) => {
      const event = normalizeEvent({ sessionId, seq: 1, kind: 'session-started', at: '2026-11-01T10:00:00Z' });
      const hash = eventHash(GENESIS_HASH, event);
      const row = eventRecord(event, GENESIS_HASH, hash);
      // A row PostgreSQL refuses (the store's own validation never lets such a row through).
      const rows = [bad ? { ...row, seq: 'x' as unknown as number } : row];
      return { sessionId, lockKey: 1, rows, guard: { session_id: sessionId, first_seq: 1, last_seq: 1, prev_hash: GENESIS_HASH } };
    };
    // The first flush goes at once; the three submitted while it is in flight form the next group.
    const first = writer.submit(item('gc-w'));
    const results = await Promise.all([writer.submit(item('gc-a')), writer.submit(item('gc-b', true)), writer.submit(item('gc-c'))]);
    assert.equal(await first, 1);
    assert.deepEqual(results, [undefined, undefined, undefined]);
    assert.equal(await count('gc-a') + await count('gc-b') + await count('gc-c'), 0);
    // Alone, the good ones go in; the store's general path would report the bad one's error.
    assert.equal(await writer.submit(item('gc-a')), 1);
    assert.equal(await writer.submit(item('gc-a')), undefined); // already there: guard holds it back
    assert.equal(await count('gc-a'), 1);
  });

  // Another writer (a second worker, the general path) holds a session's chain lock and commits
  // while a group waits for it: the group's guard must judge by what that writer committed.
  const LOCKED = 4_242;
  const chained = (sessionId: string, seq: number, prevHash: string, reasoning: string) => {
    const event = normalizeEvent({ sessionId, seq, kind: 'proposed', at: '2026-11-01T10:00:00Z', reasoning });
    const hash = eventHash(prevHash, event);
    return { row: eventRecord(event, prevHash, hash), hash };
  };
  /** Holds the chain lock of `LOCKED` while it inserts `row` and `submit` starts a group; commits once the group waits for the lock. */
  async function commitWhileAGroupWaits(row: ReturnType<typeof chained>['row'], submit: () => Promise<number | undefined>): Promise<number | undefined> {
    const holder = await db.pool.connect();
    let submitted: Promise<number | undefined> | undefined;
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1::int4, $2::int4)', [LOCK_CLASS, LOCKED]);
      submitted = submit();
      await holder.query(
        'INSERT INTO events (session_id, seq, kind, at, reasoning, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [row.session_id, row.seq, row.kind, row.at, row.reasoning, row.prev_hash, row.hash],
      );
      await eventually(async () => {
        const r = await db.pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1 AND objid = $2`, [LOCK_CLASS, LOCKED]);
        return r.rows[0].n > 0;
      }, { what: 'the group to wait for the chain lock', timeoutMs: 10_000 });
      await holder.query('COMMIT');
    } finally {
      holder.release();
    }
    return submitted;
  }

  test('a group that waited for a chain lock sees what its holder committed: the next append goes in', async () => {
    const writer = new GroupWriter(db.pool, 1);
    const first = chained('gc-lock-1', 1, GENESIS_HASH, 'written by the lock holder');
    const second = chained('gc-lock-1', 2, first.hash, 'written by the group');
    const inserted = await commitWhileAGroupWaits(first.row, () => writer.submit({ sessionId: 'gc-lock-1', lockKey: LOCKED, rows: [second.row], guard: { session_id: 'gc-lock-1', first_seq: 2, last_seq: 2, prev_hash: first.hash } }));
    assert.equal(inserted, 1);
    assert.deepEqual((await verifyDatabase(db.pool, { sessionId: 'gc-lock-1', keyset })).broken, []);
  });

  test('a group that waited for a chain lock holds back an append whose seq the holder wrote meanwhile', async () => {
    const writer = new GroupWriter(db.pool, 1);
    const first = chained('gc-lock-2', 1, GENESIS_HASH, 'first');
    assert.equal(await writer.submit({ sessionId: 'gc-lock-2', lockKey: LOCKED, rows: [first.row], guard: { session_id: 'gc-lock-2', first_seq: 1, last_seq: 1, prev_hash: GENESIS_HASH } }), 1);
    const theirs = chained('gc-lock-2', 2, first.hash, 'the lock holder\'s second event');
    const ours = chained('gc-lock-2', 2, first.hash, 'the group\'s second event');
    const next = chained('gc-lock-2', 3, ours.hash, 'the group\'s third event');
    const inserted = await commitWhileAGroupWaits(theirs.row, () => writer.submit({ sessionId: 'gc-lock-2', lockKey: LOCKED, rows: [ours.row, next.row], guard: { session_id: 'gc-lock-2', first_seq: 2, last_seq: 3, prev_hash: first.hash } }));
    assert.equal(inserted, undefined, 'handed back to the general path');
    const stored = await db.pool.query('SELECT seq, reasoning FROM events WHERE session_id = $1 ORDER BY seq', ['gc-lock-2']);
    assert.deepEqual(stored.rows, [{ seq: 1, reasoning: 'first' }, { seq: 2, reasoning: 'the lock holder\'s second event' }]);
  });

  test('every column of an event goes through the group commit and reads back as hashed', async () => {
    const event: AuditEventInput = {
      sessionId: 'gc-cols', seq: 1, kind: 'approved', at: '2026-11-01T10:00:00.123Z', proposalSeq: 7, tool: 'db.query',
      args: { sql: 'select 1', n: [1, 2] }, reasoning: 'why', decision: { verdict: 'allow', tier: 'autonomous', reasons: [{ rule: 'tool.tier', message: 'm' }], policyHash: 'p' },
      approvalId: 'ap-1', approver: 'alice', latencyMs: 1.5, tokenCost: 42, resultStatus: 'executed', error: 'none', detail: { k: { v: true } },
    };
    const fresh = new AuditStore(db.pool);
    assert.deepEqual(await fresh.append([event]), { inserted: 1, duplicates: 0 });
    const stored = await readEvents(db.pool, 'gc-cols');
    assert.deepEqual(stored.map((l) => l.event), [normalizeEvent(event)]);
    assert.deepEqual((await verifyDatabase(db.pool, { sessionId: 'gc-cols', keyset })).broken, []);
  });
});
