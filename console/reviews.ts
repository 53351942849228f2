/**
 * The alerts review: every alert of the sessions started in the last N days — the `alerts` table's
 * rows and the alerts a trail raises itself (`audit/alerts.ts`: forbidden transitions, budgets,
 * refusals, expiries, halts, mode changes) — each with its latest verdict; per rule, how often a
 * person overruled it ("agent was right"). Verdicts go to `alert_reviews` (`audit/alert-reviews.ts`):
 * a hash chain of its own, append-only by trigger, which `audit verify` checks.
 */
import type pg from 'pg';
import { appendReview, latestReviews, type ReviewVerdict } from '../audit/alert-reviews';
import { eventAlerts } from '../audit/alerts';
import { rowToChained, EVENT_COLUMNS, type EventRow } from '../audit/rows';
import { ConsoleError } from './errors';
import type { Person } from './sessions';

export type { ReviewVerdict } from '../audit/alert-reviews';
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
    latestReviews(pool),
  ]);
  const items: AlertItem[] = [];
  const push = (sessionId: string, rule: string, message: string, at: string) => {
    const key = alertKey(sessionId, rule, at);
    const r = reviews.get(key);
    items.push({ key, sessionId, rule, message, at, ...(r ? { review: { verdict: r.verdict, note: r.note, reviewer: r.reviewer, at: r.at, seq: r.seq } } : {}) });
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

/** Records a verdict on one alert (it must be one `listAlerts` shows); resolves with the review's seq. */
export async function reviewAlert(pool: pg.Pool, person: Person, key: unknown, verdict: unknown, noteIn: unknown, since: Date): Promise<{ seq: number; hash: string }> {
  if (person.role !== 'operator') throw new ConsoleError(403, 'role', `\`${person.principal}\` signs in as ${person.role}, not as an operator`);
  if (verdict !== 'agent-right' && verdict !== 'rule-right') throw new ConsoleError(400, 'verdict', 'expected verdict `agent-right` or `rule-right`');
  if (typeof noteIn !== 'string' || noteIn.length > 2000) throw new ConsoleError(400, 'note', 'the note must be text of at most 2000 characters');
  if (typeof key !== 'string' || key.length > 1000) throw new ConsoleError(400, 'alert', 'expected the alert\'s key');
  const alert = (await listAlerts(pool, since)).find((a) => a.key === key);
  if (!alert) throw new ConsoleError(404, 'not-found', `no alert \`${key.slice(0, 200)}\` in the reviewed window`);
  return appendReview(pool, { alertKey: alert.key, sessionId: alert.sessionId, rule: alert.rule, alertAt: alert.at, verdict, note: noteIn.trim(), reviewer: person.principal, keyId: person.keyId, at: new Date().toISOString() });
}
