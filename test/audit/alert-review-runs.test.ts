/**
 * The alerts review's repeats against a real PostgreSQL: a verdict covers only the occurrences its
 * reviewer was shown. An agent that breaches a bound by a little, is judged right, and then breaches
 * it by any amount gets a new, unreviewed alert showing the worst message — not the old verdict on
 * the benign one — and a verdict given on a card that has had repeats since it was shown is refused.
 * The review reads only the events that can raise an alert (not every allowed call of 30 days).
 */
import assert from 'node:assert/strict';
import type pg from 'pg';
import { after, before, describe, test } from 'node:test';
import { alertRuns, eventAlerts, runMessage } from '../../audit/alerts';
import { AuditStore } from '../../audit/store';
import type { AuditEventInput } from '../../audit/types';
import { listAlerts, reviewAlert, tallyRules, type AlertItem } from '../../console/reviews';
import type { Person } from '../../console/sessions';
import type { RuleId } from '../../policies';
import { createTestDatabase, type TestDatabase } from '../support/servers';

const MINUTE = 60_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const olivia: Person = { principal: 'olivia', role: 'operator', credentialId: 'cred-olivia', keyId: 'p256:olivia', csrf: 'x', until: Date.now() + 3_600_000 };
const since = () => new Date(Date.now() - 24 * 60 * MINUTE);

const decided = (sessionId: string, seq: number, at: number, verdict: 'allow' | 'deny', rule: RuleId | undefined, message = ''): AuditEventInput => ({
  sessionId, seq, kind: 'decided', at: iso(at), proposalSeq: seq, tool: 'billing.refund', args: { amount: 1 },
  decision: { verdict, tier: verdict === 'deny' ? 'blocked' : 'autonomous', reasons: rule ? [{ rule, message }] : [], policyHash: 'h' },
});
const refund = (sessionId: string, seq: number, at: number, amount: number): AuditEventInput =>
  decided(sessionId, seq, at, 'deny', 'args.bounds', `\`amount\` ${amount} is above its bound 1000`);

describe('repeats of an alert (pure)', () => {
  test('told once with the count and the latest message; a run can be cut where the caller says', () => {
    const t0 = Date.parse('2026-11-01T10:00:00Z');
    const events = [refund('a', 1, t0, 1001), refund('a', 2, t0 + 1000, 9_000_000), refund('a', 3, t0 + 2000, 8_000_000)];
    assert.deepEqual(eventAlerts(events).map((a) => a.message), [
      'billing.refund denied: `amount` 1001 is above its bound 1000 (×3; the latest: billing.refund denied: `amount` 8000000 is above its bound 1000)',
    ]);
    // As if the first was reviewed between the first and the second occurrence.
    const cut = alertRuns(events, (first, e) => first.at === iso(t0) && e.seq >= 2);
    assert.deepEqual(cut.map((r) => [r.first.at, r.latest.at, r.count]), [[iso(t0), iso(t0), 1], [iso(t0 + 1000), iso(t0 + 2000), 2]]);
    assert.equal(runMessage(cut[0]!), 'billing.refund denied: `amount` 1001 is above its bound 1000');
  });
});

describe('the alerts review against PostgreSQL', () => {
  let db: TestDatabase;
  let store: AuditStore;
  const start = async (sessionId: string, at: number) => {
    await store.startSession({ sessionId, workflowId: `session-${sessionId}`, agentId: 'billing-bot', owner: 'eng-007', intent: 'refunds', policyHash: 'h', policy: {}, startedAt: iso(at) });
    await store.append([{ sessionId, seq: 1, kind: 'session-started', at: iso(at), detail: { policy: 'default' } }]);
  };
  const itemsOf = async (sessionId: string): Promise<AlertItem[]> => (await listAlerts(db.pool, since())).filter((a) => a.sessionId === sessionId).sort((a, b) => a.at.localeCompare(b.at));

  before(async () => {
    db = await createTestDatabase('audit_alert_runs');
    store = new AuditStore(db.pool);
  });
  after(async () => {
    await db?.drop();
  });

  test('repeats after a review are a new unreviewed alert with the latest message; the old verdict stays on what it saw', async () => {
    const t0 = Date.now() - 60 * MINUTE;
    await start('runs', t0);
    await store.append([refund('runs', 2, t0 + MINUTE, 1001)]);
    const [mild] = await itemsOf('runs');
    assert.deepEqual([mild?.count, mild?.review], [1, undefined]);
    await reviewAlert(db.pool, olivia, { alert: mild!.key, verdict: 'agent-right', note: 'a rounding slip', seen: mild!.lastAt, seenCount: mild!.count }, since());

    // Written after the review: one stamped before it (a late write) and one after, both far worse.
    const reviewedAt = (await db.pool.query<{ at: Date }>('SELECT at FROM alert_reviews ORDER BY seq DESC LIMIT 1')).rows[0]!.at.getTime();
    await store.append([refund('runs', 3, t0 + 2 * MINUTE, 9_000_000)]);
    await store.append([refund('runs', 4, reviewedAt + 1, 9_500_000)]);
    const items = await itemsOf('runs');
    assert.deepEqual(items.map((a) => [a.key === mild!.key, a.count, a.review?.verdict ?? 'unreviewed']), [[true, 1, 'agent-right'], [false, 2, 'unreviewed']]);
    assert.equal(items[0]!.message, 'billing.refund denied: `amount` 1001 is above its bound 1000');
    assert.equal(items[1]!.message, 'billing.refund denied: `amount` 9000000 is above its bound 1000 (×2; the latest: billing.refund denied: `amount` 9500000 is above its bound 1000)');
    assert.deepEqual(tallyRules(items), [{ rule: 'args.bounds', alerts: 2, reviewed: 1, overruled: 1, upheld: 0 }]);

    // A verdict on the card as it was shown before another repeat is refused; on the card as it is, recorded.
    const shown = items[1]!;
    await store.append([refund('runs', 5, reviewedAt + 2, 9_900_000)]);
    await assert.rejects(reviewAlert(db.pool, olivia, { alert: shown.key, verdict: 'agent-right', note: '', seen: shown.lastAt, seenCount: shown.count }, since()), (err: any) => {
      assert.equal(err.status, 409);
      assert.equal(err.code, 'changed');
      return true;
    });
    const now = (await itemsOf('runs'))[1]!;
    assert.equal(now.count, 3);
    await reviewAlert(db.pool, olivia, { alert: now.key, verdict: 'rule-right', note: 'far out of bounds', seen: now.lastAt, seenCount: now.count }, since());

    // Judging the first alert again does not stretch it over the later ones.
    await reviewAlert(db.pool, olivia, { alert: mild!.key, verdict: 'rule-right', note: 'on second thought', seen: mild!.lastAt, seenCount: mild!.count }, since());
    const final = await itemsOf('runs');
    assert.deepEqual(final.map((a) => [a.count, a.review?.verdict]), [[1, 'rule-right'], [3, 'rule-right']]);
    assert.deepEqual(tallyRules(final), [{ rule: 'args.bounds', alerts: 2, reviewed: 2, overruled: 0, upheld: 2 }]);
  });

  test('a verdict must say which occurrences it saw', async () => {
    const t0 = Date.now() - 30 * MINUTE;
    await start('unseen', t0);
    await store.append([refund('unseen', 2, t0 + MINUTE, 2000)]);
    const [item] = await itemsOf('unseen');
    await assert.rejects(reviewAlert(db.pool, olivia, { alert: item!.key, verdict: 'agent-right', note: '', seen: undefined, seenCount: undefined }, since()), (err: any) => {
      assert.deepEqual([err.status, err.code], [400, 'seen']);
      return true;
    });
  });

  test('repeats in one workflow task share a time: the count the card showed tells them apart', async () => {
    const t0 = Date.now() - 20 * MINUTE;
    await start('same-time', t0);
    await store.append([refund('same-time', 2, t0 + MINUTE, 1001)]);
    const [shown] = await itemsOf('same-time');
    await store.append([refund('same-time', 3, t0 + MINUTE, 9_000_000)]);
    const [now] = await itemsOf('same-time');
    assert.deepEqual([now!.lastAt === shown!.lastAt, shown!.count, now!.count], [true, 1, 2]);
    await assert.rejects(reviewAlert(db.pool, olivia, { alert: shown!.key, verdict: 'agent-right', note: '', seen: shown!.lastAt, seenCount: shown!.count }, since()), (err: any) => {
      assert.deepEqual([err.status, err.code], [409, 'changed']);
      return true;
    });
  });

  test('reads only the events that can raise an alert, not every decision', async () => {
    const t0 = Date.now() - 20 * MINUTE;
    await start('reads', t0);
    await store.append([
      decided('reads', 2, t0 + 1000, 'allow', undefined),
      decided('reads', 3, t0 + 2000, 'deny', 'rate.tool', 'too fast'), // the agent's own business: no alert
      { sessionId: 'reads', seq: 4, kind: 'mode-changed', at: iso(t0 + 3000), detail: { from: 'read-only', to: 'normal' } },
      refund('reads', 5, t0 + 4000, 5000),
      { sessionId: 'reads', seq: 6, kind: 'mode-changed', at: iso(t0 + 5000), detail: { from: 'normal', to: 'read-only' } },
    ]);
    const read: { session_id: string; seq: number }[] = [];
    const watched = {
      query: async (text: string, values?: unknown[]) => {
        const r = await db.pool.query(text, values);
        if (/\bFROM events\b/.test(text)) read.push(...r.rows);
        return r;
      },
    } as unknown as pg.Pool;
    const items = (await listAlerts(watched, since())).filter((a) => a.sessionId === 'reads');
    assert.deepEqual(items.map((a) => a.rule).sort(), ['args.bounds', 'mode.read-only']);
    assert.deepEqual(read.filter((r) => r.session_id === 'reads').map((r) => r.seq), [5, 6]);
  });
});
