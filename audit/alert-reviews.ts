/**
 * Alert reviews: people's verdicts on alerts ("agent was right" / "the rule was right", a note),
 * kept in `alert_reviews` as a hash chain of their own — `seq` gap-free from 1, hash =
 * sha256(prev_hash ‖ canonical JSON of the review), the first from 64 zeros — append-only by
 * trigger (migration 050). `appendReview` takes an advisory lock so two reviewers cannot fork the
 * chain; `checkReviewChain` recomputes it (`audit verify` reports a broken link as `trail.reviews`).
 */
import type { Pool } from 'pg';
import { scrubString } from './chain';
import { canonicalJson, sha256Hex } from './hashing';

export type ReviewVerdict = 'agent-right' | 'rule-right';

export interface AlertReview {
  readonly alertKey: string;
  readonly sessionId: string;
  readonly rule: string;
  readonly alertAt: string;
  readonly verdict: ReviewVerdict;
  readonly note: string;
  readonly reviewer: string;
  readonly keyId: string;
  readonly at: string;
}

const GENESIS = '0'.repeat(64);
/** Arbitrary constant key of the advisory lock that serialises appends to the chain. */
const REVIEW_LOCK_KEY = 7_305_118_050;

function content(seq: number, r: AlertReview): string {
  return canonicalJson({ seq, alertKey: r.alertKey, sessionId: r.sessionId, rule: r.rule, alertAt: r.alertAt, verdict: r.verdict, note: r.note, reviewer: r.reviewer, keyId: r.keyId, at: r.at });
}

/**
 * Appends one review at the chain's head; resolves with its seq and hash. What PostgreSQL cannot
 * store as given (NUL, a lone surrogate) is made U+FFFD first, so what is hashed is what is stored:
 * otherwise one such note broke the chain for good.
 */
export async function appendReview(pool: Pool, given: AlertReview): Promise<{ seq: number; hash: string }> {
  const review = Object.fromEntries(Object.entries(given).map(([k, v]) => [k, typeof v === 'string' ? scrubString(v) : v])) as unknown as AlertReview;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [REVIEW_LOCK_KEY]);
    const last = await client.query<{ seq: number; hash: string }>('SELECT seq, hash FROM alert_reviews ORDER BY seq DESC LIMIT 1');
    const prev = last.rows[0] ?? { seq: 0, hash: GENESIS };
    const seq = prev.seq + 1;
    const hash = sha256Hex(prev.hash + content(seq, review));
    await client.query(
      'INSERT INTO alert_reviews (seq, alert_key, session_id, rule, alert_at, verdict, note, reviewer, key_id, at, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)',
      [seq, review.alertKey, review.sessionId, review.rule, review.alertAt, review.verdict, review.note, review.reviewer, review.keyId, review.at, prev.hash, hash],
    );
    await client.query('COMMIT');
    return { seq, hash };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** The latest review of each alert, by alert key. */
export async function latestReviews(pool: Pool): Promise<Map<string, AlertReview & { readonly seq: number }>> {
  const r = await pool.query('SELECT DISTINCT ON (alert_key) * FROM alert_reviews ORDER BY alert_key, seq DESC');
  return new Map(r.rows.map((row) => [row.alert_key as string, rowToReview(row)]));
}

function rowToReview(row: Record<string, any>): AlertReview & { readonly seq: number } {
  return {
    seq: row.seq,
    alertKey: row.alert_key,
    sessionId: row.session_id,
    rule: row.rule,
    alertAt: new Date(row.alert_at).toISOString(),
    verdict: row.verdict,
    note: row.note,
    reviewer: row.reviewer,
    keyId: row.key_id,
    at: new Date(row.at).toISOString(),
  };
}

/** Recomputes the chain; the first broken link, if any. */
export async function checkReviewChain(pool: Pool): Promise<{ readonly ok: boolean; readonly reviews: number; readonly brokenAt?: number }> {
  const r = await pool.query('SELECT * FROM alert_reviews ORDER BY seq');
  let prev = GENESIS;
  for (const [i, row] of r.rows.entries()) {
    if (row.seq !== i + 1 || row.prev_hash !== prev || row.hash !== sha256Hex(prev + content(row.seq, rowToReview(row)))) return { ok: false, reviews: r.rows.length, brokenAt: row.seq };
    prev = row.hash;
  }
  return { ok: true, reviews: r.rows.length };
}
