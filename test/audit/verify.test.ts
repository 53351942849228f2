/**
 * Tamper evidence against a real PostgreSQL: a superuser who disables the append-only trigger
 * can change rows, and `verifyDatabase` names the first broken link; exports verify offline.
 * Signed votes: every stored envelope is re-verified against the keyset, and an executed
 * approval-tier call needs valid signed approvals over its digest, whatever the chain says.
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
import { base64 } from '@scure/base';
import type { AuditEventInput } from '../../audit/types';
import { testTrust, TEST_SLACK_USERS } from '../support/trust';
import { approvedSession, incidentSession, withoutEvent } from './fixtures';

const trust = testTrust();
/** The test keyset, with a Slack person for `data-lee` (an approver of the example policy). */
const keyset = { ...trust.keyset, slackUsers: [...TEST_SLACK_USERS, { userId: 'U0LEE', teamId: 'T0TEST', approver: 'data-lee' }] };

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
    const report = await verifyDatabase(db.pool, { sessionId: 'v-ok', keyset });
    assert.equal(report.ok, true, formatVerifyReport(report));
    assert.equal(report.eventsChecked, 12);
    assert.match(report.heads['v-ok'] ?? '', /^[0-9a-f]{64}$/);
    assert.match(formatVerifyReport(report), /^ok: 1 session\(s\), 12 event\(s\)/);
  });

  test('an edited argument is caught at its seq', async () => {
    await record('v-edit');
    await asTamperer(`UPDATE events SET args = '{"filter":{"period":"2026-10","test":false}}' WHERE session_id = 'v-edit' AND seq = 5`);
    const report = await verifyDatabase(db.pool, { sessionId: 'v-edit', keyset });
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
    const report = await verifyDatabase(db.pool, { sessionId: 'v-rehash', keyset });
    assert.equal(report.ok, false);
    assert.deepEqual({ seq: report.broken[0]?.seq, problem: report.broken[0]?.problem }, { seq: 9, problem: 'prev-hash' });
    assert.equal(report.broken[0]?.actual, links[7]!.hash);
    assert.equal(report.broken[0]?.expected, forged);
  });

  test('a deleted row is caught as a sequence break', async () => {
    await record('v-del');
    await asTamperer(`DELETE FROM events WHERE session_id = 'v-del' AND seq = 6`);
    const report = await verifyDatabase(db.pool, { sessionId: 'v-del', keyset });
    assert.equal(report.ok, false);
    assert.deepEqual({ seq: report.broken[0]?.seq, problem: report.broken[0]?.problem }, { seq: 7, problem: 'sequence' });
  });

  test('verifying everything names each broken session and the trigger stays on afterwards', async () => {
    const report = await verifyDatabase(db.pool, { keyset });
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
    assert.equal(verifyExportText(text, 'x-1.json', { keyset }).ok, true);
  });

  test('an edited export fails verification naming the event', async () => {
    const doc = JSON.parse(JSON.stringify(await exportSession(db.pool, 'x-1')));
    doc.events[7].approver = 'eng-999';
    const report = verifyExport(parseExport(JSON.stringify(doc), 'f.json'), { keyset });
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

/** Records a scripted session's events (maybe forged) and verifies that session against the keyset. */
async function recordAndVerify(sessionId: string, events: readonly AuditEventInput[], opts: { keyset?: typeof keyset } = { keyset }) {
  const s = approvedSession(sessionId, '2026-11-02T10:00:00Z');
  await store.startSession(s.record);
  await store.append(events);
  return verifyDatabase(db.pool, { sessionId, ...(opts.keyset ? { keyset: opts.keyset } : {}) });
}

describe('signed votes', () => {
  test('a valid trail passes: signed with the approver key itself, and by the approvals service for a Slack person', async () => {
    const own = approvedSession('sv-ok', '2026-11-02T10:00:00Z');
    const viaSlack = approvedSession('sv-slack', '2026-11-02T10:00:00Z', { userId: 'U0LEE', teamId: 'T0TEST' });
    for (const s of [own, viaSlack]) {
      await store.startSession(s.record);
      await store.append(s.events);
      const report = await verifyDatabase(db.pool, { sessionId: s.record.sessionId, keyset });
      assert.equal(report.ok, true, formatVerifyReport(report));
      assert.deepEqual(report.votes, []);
    }
    const approved = viaSlack.events.find((e) => e.kind === 'approved')!;
    assert.deepEqual(approved.detail?.onBehalfOf, { slackUserId: 'U0LEE', slackTeamId: 'T0TEST' });
    assert.equal(approved.detail?.keyId, trust.service.keyId);
    // The export of the same session verifies offline too.
    assert.equal(verifyExport(await exportSession(db.pool, 'sv-slack'), { keyset }).ok, true);
  });

  test('a tampered envelope is named with its seq, and the call it let run with its own', async () => {
    const s = approvedSession('sv-tamper', '2026-11-02T10:00:00Z');
    const events = s.events.map((e) => {
      if (e.kind !== 'approved') return e;
      const env = e.detail!.envelope as { payloadType: string; payload: string; signatures: unknown[] };
      const payload = JSON.parse(new TextDecoder().decode(base64.decode(env.payload))) as Record<string, unknown>;
      // Re-pointed at another call; the signature is the approver's, over the old bytes.
      const forged = { ...env, payload: base64.encode(new TextEncoder().encode(JSON.stringify({ ...payload, callDigest: 'e'.repeat(64) }))) };
      return { ...e, detail: { ...e.detail, envelope: forged } };
    });
    const report = await recordAndVerify('sv-tamper', events);
    assert.equal(report.ok, false);
    assert.deepEqual(report.broken, [], 'the chain holds: the forger wrote it that way');
    const approvedSeq = events.find((e) => e.kind === 'approved')!.seq;
    const executedSeq = events.filter((e) => e.kind === 'executed').at(-1)!.seq;
    assert.deepEqual(report.votes.map((v) => [v.sessionId, v.seq, v.rule]), [
      ['sv-tamper', approvedSeq, 'envelope.bad-signature'],
      ['sv-tamper', executedSeq, 'vote.missing'],
    ]);
    assert.match(formatVerifyReport(report), new RegExp(`session \`sv-tamper\` seq ${executedSeq}: vote.missing: \`billing.deleteRecords\` ran without a valid signed approval`));
  });

  test('an executed approval-tier call without a vote event fails naming the session and seq', async () => {
    const s = approvedSession('sv-none', '2026-11-02T10:00:00Z');
    const events = withoutEvent(s.events, s.events.find((e) => e.kind === 'approved')!.seq);
    const report = await recordAndVerify('sv-none', events);
    const executedSeq = events.filter((e) => e.kind === 'executed').at(-1)!.seq;
    assert.equal(report.ok, false);
    assert.deepEqual(report.votes.map((v) => [v.sessionId, v.seq, v.rule]), [['sv-none', executedSeq, 'vote.missing']]);
  });

  test('an approval event without an envelope, or a vote replayed from another call, does not prove anything', async () => {
    const s = approvedSession('sv-unsigned', '2026-11-02T10:00:00Z');
    const unsigned = s.events.map((e) => (e.kind === 'approved' ? { ...e, detail: { reason: 'trust me' } } : e));
    const a = await recordAndVerify('sv-unsigned', unsigned);
    assert.deepEqual(a.votes.map((v) => v.rule), ['vote.unsigned', 'vote.missing']);

    // A real signature of data-lee, from session sv-ok, spliced into another session's trail.
    const donor = approvedSession('sv-ok', '2026-11-02T10:00:00Z').events.find((e) => e.kind === 'approved')!;
    const spliced = approvedSession('sv-splice', '2026-11-02T10:00:00Z').events.map((e) => (e.kind === 'approved' ? { ...e, detail: donor.detail } : e));
    const b = await recordAndVerify('sv-splice', spliced);
    assert.deepEqual(b.votes.map((v) => v.rule), ['decision.session', 'vote.missing']);
  });

  test('without a keyset no signed vote can be checked: each is a finding', async () => {
    const report = await verifyDatabase(db.pool, { sessionId: 'sv-ok' });
    assert.equal(report.ok, false);
    assert.deepEqual(report.votes.map((v) => v.rule), ['vote.no-keyset', 'vote.missing']);
    assert.match(report.votes[0]!.message, /pass `--keys` or set `GATEHOUSE_KEYS`/);
  });
});
