/**
 * Tamper evidence against a real PostgreSQL: a superuser who disables the append-only trigger
 * can change rows, and `verifyDatabase` names the first broken link; exports verify offline.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PoolClient } from 'pg';
import { AuditStore } from '../../audit/store';
import { UnknownSessionError, AuditUsageError } from '../../audit/errors';
import { exportSession, parseExport } from '../../audit/export';
import { eventHash, normalizeEvent } from '../../audit/chain';
import { readEvents } from '../../audit/queries';
import { formatVerifyReport, verifyDatabase, verifyExport, verifyExportText } from '../../audit/verify';
import { createTestDatabase, type TestDatabase } from '../support/servers';
import { incidentSession } from './fixtures';

let db: TestDatabase;
let store: AuditStore;

before(async () => {
  db = await createTestDatabase('audit_verify');
  store = new AuditStore(db.pool);
});
after(async () => {
  await db?.drop();
});

async function record(sessionId: string) {
  const s = incidentSession(sessionId, '2026-11-01T10:00:00Z');
  await store.startSession(s.record);
  await store.append(s.events);
  return s;
}

/** Runs SQL as the superuser with triggers off (`session_replication_role = replica`). */
async function asTamperer(sql: string, values: unknown[] = []): Promise<void> {
  const client: PoolClient = await db.pool.connect();
  try {
    await client.query('SET session_replication_role = replica');
    await client.query(sql, values);
  } finally {
    await client.query('RESET session_replication_role');
    client.release();
  }
}

describe('database chains', () => {
  test('an untouched trail verifies', async () => {
    await record('v-ok');
    const report = await verifyDatabase(db.pool, { sessionId: 'v-ok' });
    assert.equal(report.ok, true);
    assert.equal(report.eventsChecked, 12);
    assert.match(report.heads['v-ok'] ?? '', /^[0-9a-f]{64}$/);
    assert.match(formatVerifyReport(report), /^ok: 1 session\(s\), 12 event\(s\)/);
  });

  test('an edited argument is caught at its seq', async () => {
    await record('v-edit');
    await asTamperer(`UPDATE events SET args = '{"filter":{"period":"2026-10","test":false}}' WHERE session_id = 'v-edit' AND seq = 5`);
    const report = await verifyDatabase(db.pool, { sessionId: 'v-edit' });
    assert.equal(report.ok, false);
    assert.equal(report.broken[0]?.seq, 5);
    assert.equal(report.broken[0]?.problem, 'hash');
    assert.match(formatVerifyReport(report), /tampering detected: 1 of 1 session\(s\)[\s\S]*session `v-edit` seq 5: content does not match its hash/);
  });

  test('an edit with a recomputed hash is caught at the next link', async () => {
    await record('v-rehash');
    // The tamperer recomputes the edited row's hash; the next event still points at the old one.
    const links = await readEvents(db.pool, 'v-rehash');
    const edited = normalizeEvent({ ...links[7]!.event, approver: 'eng-999' });
    const forged = eventHash(links[7]!.prevHash, edited);
    await asTamperer(`UPDATE events SET approver = 'eng-999', hash = $1 WHERE session_id = 'v-rehash' AND seq = 8`, [forged]);
    const report = await verifyDatabase(db.pool, { sessionId: 'v-rehash' });
    assert.equal(report.ok, false);
    assert.deepEqual({ seq: report.broken[0]?.seq, problem: report.broken[0]?.problem }, { seq: 9, problem: 'prev-hash' });
    assert.equal(report.broken[0]?.actual, links[7]!.hash);
    assert.equal(report.broken[0]?.expected, forged);
  });

  test('a deleted row is caught as a sequence break', async () => {
    await record('v-del');
    await asTamperer(`DELETE FROM events WHERE session_id = 'v-del' AND seq = 6`);
    const report = await verifyDatabase(db.pool, { sessionId: 'v-del' });
    assert.equal(report.ok, false);
    assert.deepEqual({ seq: report.broken[0]?.seq, problem: report.broken[0]?.problem }, { seq: 7, problem: 'sequence' });
  });

  test('verifying everything names each broken session and the trigger stays on afterwards', async () => {
    const report = await verifyDatabase(db.pool);
    assert.equal(report.ok, false);
    assert.deepEqual(report.broken.map((b) => b.sessionId).sort(), ['v-del', 'v-edit', 'v-rehash']);
    await assert.rejects(db.pool.query(`DELETE FROM events WHERE session_id = 'v-ok'`), /append-only/);
  });

  test('an unknown session is an error, not an empty success', async () => {
    await assert.rejects(verifyDatabase(db.pool, { sessionId: 'v-missing' }), UnknownSessionError);
  });
});

describe('exports', () => {
  test('an export is self-contained and verifies offline', async () => {
    const s = await record('x-1');
    await store.raiseAlert('x-1', 'intent', 'deviation 70%', '2026-11-01T10:01:00Z');
    const doc = await exportSession(db.pool, 'x-1');
    assert.equal(doc.format, 'gatehouse-audit-export');
    assert.equal(doc.policy.hash, s.record.policyHash);
    assert.deepEqual(doc.policy.document, JSON.parse(JSON.stringify(s.record.policy)));
    assert.equal(doc.events.length, 12);
    assert.equal(doc.chain.head, doc.events[11]!.hash);
    assert.equal(doc.alerts.length, 1);
    const text = JSON.stringify(doc);
    assert.equal(verifyExportText(text, 'x-1.json').ok, true);
  });

  test('an edited export fails verification naming the event', async () => {
    const doc = JSON.parse(JSON.stringify(await exportSession(db.pool, 'x-1')));
    doc.events[7].approver = 'eng-999';
    const report = verifyExport(parseExport(JSON.stringify(doc), 'f.json'));
    assert.equal(report.ok, false);
    assert.equal(report.broken[0]?.seq, 8);
  });

  test('a truncated export fails against its stated length and head', async () => {
    const doc = JSON.parse(JSON.stringify(await exportSession(db.pool, 'x-1')));
    doc.events.pop();
    assert.equal(verifyExport(parseExport(JSON.stringify(doc), 'f.json')).ok, false);
  });

  test('a decision under another policy than the snapshot fails', async () => {
    const doc = JSON.parse(JSON.stringify(await exportSession(db.pool, 'x-1')));
    doc.policy.hash = 'b'.repeat(64);
    const report = verifyExport(parseExport(JSON.stringify(doc), 'f.json'));
    assert.equal(report.ok, false);
    assert.match(report.broken[0]?.expected ?? '', /^policy b{64}$/);
  });

  test('a file that is not an export is a usage error naming the path', () => {
    assert.throws(() => parseExport('{oops', 'bad.json'), (e: unknown) => e instanceof AuditUsageError && /file `bad.json` is not JSON/.test(e.message));
    assert.throws(() => parseExport('{"format":"gatehouse-audit-export","version":1}', 'bad.json'), /is not a gatehouse audit export: at `exportedAt`/);
  });
});
