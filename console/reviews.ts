/**
 * The alerts review: every alert of the sessions started in the last N days — the `alerts` table's
 * rows and the alerts a trail raises itself (`audit/alerts.ts`: forbidden transitions, budgets,
 * refusals, expiries, halts, mode changes) — each with its latest verdict; per rule, how often a
 * person overruled it ("agent was right"). Verdicts go to `alert_reviews`, a hash chain of its own,
 * append-only by trigger (see migration 050): appended under an advisory lock, never edited.
 */
import type pg from 'pg';
import { eventAlerts } from '../audit/alerts';
import { canonicalJson, sha256Hex } from '../audit/hashing';
import { rowToChained, EVENT_COLUMNS, type EventRow } from '../audit/rows';
import { ConsoleError } from './errors';
import type { Person } from './sessions';

export type ReviewVerdict = 'agent-right' | 'rule-right';
const GENESIS = '0'.repeat(64);
/** Arbitrary constant key of the advisory lock that serialises appends to the chain. */
const REVIEW_LOCK_KEY = 7_305_118_050;
const ALERT_EVENT_KINDS = ['decided', 'alert', 'expired', 'halted', 'mode-changed'];

export interface AlertItem {
  readonly key: string;
  readonly sessionId: string;
  readonly rule: string;
  readonly message: string;
  readonly at: string;
  readonly review?: { readonly verdict: ReviewVerdict; readonly note: string; readonly reviewer: string; readonly at: string; readonly seq: number };
}

export interface RuleTally {
  readonly rule: string;
  readonly alerts: number;
  readonly reviewed: number;
  /** Reviews that say the agent was right: the rule overruled. */
  readonly overruled: number;
  readonly upheld: number;
}

export const alertKey = (sessionId: string, rule: string, at: string): string => `${sessionId}|${rule}|${at}`;

/** Every alert of the sessions started since `since`, newest first, with its latest review. */
export async function listAlerts(pool: pg.Pool, since: Date): Promise<AlertItem[]> {
  const [table, events, reviews] = await Promise.all([
    pool.query('SELECT a.session_id, a.kind, a.message, a.at FROM alerts a JOIN sessions s USING (session_id) WHERE s.started_at >= $1 ORDER BY a.at', [since]),
    pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS.replace('prev_hash, hash', `'' AS prev_hash, '' AS hash`)} FROM events
        WHERE session_id IN (SELECT session_id FROM sessions WHERE started_at >= $1) AND kind = ANY($2) ORDER BY session_id, seq`,
      [since, ALERT_EVENT_KINDS],
    ),
    pool.query('SELECT DISTINCT ON (alert_key) alert_key, verdict, note, reviewer, at, seq FROM alert_reviews ORDER BY alert_key, seq DESC'),
  ]);
  const reviewed = new Map(reviews.rows.map((r) => [r.alert_key as string, { verdict: r.verdict as ReviewVerdict, note: r.note as string, reviewer: r.reviewer as string, at: new Date(r.at).toISOString(), seq: r.seq as number }]));
  const items: AlertItem[] = [];
  const push = (sessionId: string, rule: string, message: string, at: string) => {
    const key = alertKey(sessionId, rule, at);
    const review = reviewed.get(key);
    items.push({ key, sessionId, rule, message, at, ...(review ? { review } : {}) });
  };
  for (const r of table.rows) push(r.session_id, r.kind, r.message, new Date(r.at).toISOString());
  const bySession = new Map<string, ReturnType<typeof rowToChained>['event'][]>();
  for (const row of events.rows) {
    const e = rowToChained(row).event;
    const list = bySession.get(e.sessionId) ?? [];
    list.push(e);
    bySession.set(e.sessionId, list);
  }
  for (const [sessionId, list] of bySession) for (const a of eventAlerts(list)) push(sessionId, a.kind, a.message, a.at);
  return items.sort((a, b) => b.at.localeCompare(a.at) || a.key.localeCompare(b.key));
}

/** Per rule: its alerts, how many were reviewed, overruled and upheld (latest verdict per alert). */
export function tallyRules(items: readonly AlertItem[]): RuleTally[] {
  const by = new Map<string, { alerts: number; reviewed: number; overruled: number; upheld: number }>();
  for (const a of items) {
    const t = by.get(a.rule) ?? { alerts: 0, reviewed: 0, overruled: 0, upheld: 0 };
    t.alerts += 1;
    if (a.review) {
      t.reviewed += 1;
      if (a.review.verdict === 'agent-right') t.overruled += 1;
      else t.upheld += 1;
    }
    by.set(a.rule, t);
  }
  return [...by].map(([rule, t]) => ({ rule, ...t })).sort((a, b) => b.overruled - a.overruled || b.alerts - a.alerts || a.rule.localeCompare(b.rule));
}

/** The hashed content of a review (every column but the chain's). */
function reviewContent(r: { seq: number; alertKey: string; sessionId: string; rule: string; alertAt: string; verdict: string; note: string; reviewer: string; keyId: string; at: string }): string {
  return canonicalJson({ seq: r.seq, alertKey: r.alertKey, sessionId: r.sessionId, rule: r.rule, alertAt: r.alertAt, verdict: r.verdict, note: r.note, reviewer: r.reviewer, keyId: r.keyId, at: r.at });
}

/** Records a verdict on one alert (it must be one `listAlerts` shows); resolves with the review's seq. */
export async function reviewAlert(pool: pg.Pool, person: Person, key: unknown, verdict: unknown, noteIn: unknown, since: Date): Promise<{ seq: number; hash: string }> {
  if (person.role !== 'operator') throw new ConsoleError(403, 'role', `\`${person.principal}\` signs in as ${person.role}, not as an operator`);
  if (verdict !== 'agent-right' && verdict !== 'rule-right') throw new ConsoleError(400, 'verdict', 'expected verdict `agent-right` or `rule-right`');
  if (typeof noteIn !== 'string' || noteIn.length > 2000) throw new ConsoleError(400, 'note', 'the note must be text of at most 2000 characters');
  if (typeof key !== 'string' || key.length > 1000) throw new ConsoleError(400, 'alert', 'expected the alert\'s key');
  const alert = (await listAlerts(pool, since)).find((a) => a.key === key);
  if (!alert) throw new ConsoleError(404, 'not-found', `no alert \`${key.slice(0, 200)}\` in the reviewed window`);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [REVIEW_LOCK_KEY]);
    const last = await client.query<{ seq: number; hash: string }>('SELECT seq, hash FROM alert_reviews ORDER BY seq DESC LIMIT 1');
    const prev = last.rows[0] ?? { seq: 0, hash: GENESIS };
    const review = { seq: prev.seq + 1, alertKey: alert.key, sessionId: alert.sessionId, rule: alert.rule, alertAt: alert.at, verdict, note: noteIn.trim(), reviewer: person.principal, keyId: person.keyId, at: new Date().toISOString() };
    const hash = sha256Hex(prev.hash + reviewContent(review));
    await client.query(
      'INSERT INTO alert_reviews (seq, alert_key, session_id, rule, alert_at, verdict, note, reviewer, key_id, at, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)',
      [review.seq, review.alertKey, review.sessionId, review.rule, review.alertAt, review.verdict, review.note, review.reviewer, review.keyId, review.at, prev.hash, hash],
    );
    await client.query('COMMIT');
    return { seq: review.seq, hash };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Recomputes the reviews' chain; the first broken link, if any. */
export async function verifyAlertReviews(pool: pg.Pool): Promise<{ ok: boolean; reviews: number; brokenAt?: number }> {
  const r = await pool.query('SELECT * FROM alert_reviews ORDER BY seq');
  let prev = GENESIS;
  let n = 0;
  for (const row of r.rows) {
    n += 1;
    const content = reviewContent({ seq: row.seq, alertKey: row.alert_key, sessionId: row.session_id, rule: row.rule, alertAt: new Date(row.alert_at).toISOString(), verdict: row.verdict, note: row.note, reviewer: row.reviewer, keyId: row.key_id, at: new Date(row.at).toISOString() });
    if (row.seq !== n || row.prev_hash !== prev || row.hash !== sha256Hex(prev + content)) return { ok: false, reviews: r.rows.length, brokenAt: row.seq };
    prev = row.hash;
  }
  return { ok: true, reviews: n };
}
