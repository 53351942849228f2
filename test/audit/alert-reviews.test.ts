/**
 * The alert reviews' own hash chain against a real PostgreSQL: a note holding what PostgreSQL
 * cannot store as given (a lone surrogate becomes U+FFFD, a NUL is refused) is made storable before
 * it is hashed, so the chain stays whole and `audit verify` does not fail for good on it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { appendReview, checkReviewChain, latestReviews, type AlertReview } from '../../audit/alert-reviews';
import { createTestDatabase, type TestDatabase } from '../support/servers';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('audit_reviews');
});
after(async () => {
  await db?.drop();
});

const review = (alertKey: string, note: string): AlertReview => ({
  alertKey, sessionId: 's1', rule: 'args.bounds', alertAt: '2026-12-07T07:00:00.000Z', verdict: 'rule-right', note, reviewer: 'alice', keyId: 'p256:00', at: '2026-12-07T07:01:00.000Z',
});

test('notes with a lone surrogate or a NUL keep the chain whole, stored as U+FFFD', async () => {
  await appendReview(db.pool, review('a1', 'fine'));
  await appendReview(db.pool, review('a2', 'x\ud800y'));
  await appendReview(db.pool, review('a3', 'nul\u0000here'));
  assert.deepEqual(await checkReviewChain(db.pool), { ok: true, reviews: 3 });
  const latest = await latestReviews(db.pool);
  assert.deepEqual([latest.get('a2')?.note, latest.get('a3')?.note], ['x\ufffdy', 'nul\ufffdhere']);
});
