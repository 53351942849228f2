/**
 * The alerts review: every alert of the sessions started in the last N days — the `alerts` table's
 * rows and the alerts a trail raises itself (`audit/alerts.ts`: forbidden transitions, budgets,
 * refusals, expiries, halts, mode changes) — each with its latest verdict; per rule, how often a
 * person overruled it ("agent was right"). Verdicts go to `alert_reviews` (`audit/alert-reviews.ts`):
 * a hash chain of its own, append-only by trigger, which `audit verify` checks.
 *
 * Repeats of one alert are one item, but a verdict covers only what its reviewer was shown:
 * repeats after an item's first review open a new, unreviewed item, and a verdict given on a card
 * that has had repeats since it was shown is refused. Otherwise an agent could breach a bound by a
 * little, be judged right, and then breach it by any amount under the old verdict.
 */
import type pg from 'pg';
import { appendReview, latestReviews, type ReviewVerdict } from '../audit/alert-reviews';
import { ALERT_EVENT_KINDS, ALERT_MODES, ALERTING_RULES, alertRuns, runMessage } from '../audit/alerts';
import { rowToChained, type EventRow } from '../audit/rows';
import type { AuditEventInput } from '../audit/types';
import { ConsoleError } from './errors';
import type { Person } from './sessions';

export type { ReviewVerdict } from '../audit/alert-reviews';

export interface AlertItem {
  readonly key: string;
  readonly sessionId: string;
  readonly rule: string;
  /** The first occurrence's message; repeated, `(×n)` and the latest occurrence's message. */
  readonly message: string;
  /** When the first occurrence happened (part of the key). */
  readonly at: string;
  /** How many occurrences the item folds. */
  readonly count: number;
  /** When the latest occurrence happened: a review must name it (`seen`), so it covers what was shown. */
  readonly lastAt: string;
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

/**
 * The events that can raise an alert, filtered in SQL: denials for an alerting rule (not every
 * decision of every session), alerts, expiries, halts and moves into a bad mode.
 * `recorded_at` too: a repeat written after a review was given is not one its reviewer saw.
 */
const ALERT_EVENTS_SQL = `
  SELECT session_id, seq, kind, at, NULL AS proposal_seq, tool, NULL AS args, NULL AS reasoning, decision,
         NULL AS approval_id, approver, NULL AS latency_ms, NULL AS token_cost, NULL AS result_status, error, detail,
         '' AS prev_hash, '' AS hash, recorded_at
    FROM events
   WHERE session_id IN (SELECT session_id FROM sessions WHERE started_at >= $1)
     AND kind = ANY($2)
     AND (kind <> 'decided' OR (decision ->> 'verdict' = 'deny' AND EXISTS (
           SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(decision -> 'reasons') = 'array' THEN decision -> 'reasons' ELSE '[]'::jsonb END) r
            WHERE r ->> 'rule' = ANY($3))))
     AND (kind <> 'mode-changed' OR detail ->> 'to' = ANY($4))
   ORDER BY session_id, seq`;

type RecordedEvent = AuditEventInput & { readonly recordedAt: number };

/** When each reviewed item was first reviewed: the end of what its verdicts cover. */
async function firstReviewTimes(pool: pg.Pool): Promise<Map<string, number>> {
  const r = await pool.query<{ alert_key: string; at: Date }>('SELECT alert_key, min(at) AS at FROM alert_reviews GROUP BY alert_key');
  return new Map(r.rows.map((row) => [row.alert_key, new Date(row.at).getTime()]));
}

/** Every alert of the sessions started since `since`, newest first, with its latest review. */
export async function listAlerts(pool: pg.Pool, since: Date): Promise<AlertItem[]> {
  const [table, events, reviews, closedAt] = await Promise.all([
    pool.query('SELECT a.session_id, a.kind, a.message, a.at FROM alerts a JOIN sessions s USING (session_id) WHERE s.started_at >= $1 ORDER BY a.at', [since]),
    pool.query<EventRow & { recorded_at: Date }>(ALERT_EVENTS_SQL, [since, ALERT_EVENT_KINDS, ALERTING_RULES, ALERT_MODES]),
    latestReviews(pool),
    firstReviewTimes(pool),
  ]);
  const items: AlertItem[] = [];
  const push = (sessionId: string, rule: string, message: string, at: string, count: number, lastAt: string) => {
    const key = alertKey(sessionId, rule, at);
    const r = reviews.get(key);
    items.push({ key, sessionId, rule, message, at, count, lastAt, ...(r ? { review: { verdict: r.verdict, note: r.note, reviewer: r.reviewer, at: r.at, seq: r.seq } } : {}) });
  };
  for (const r of table.rows) {
    const at = new Date(r.at).toISOString();
    push(r.session_id, r.kind, r.message, at, 1, at);
  }
  const bySession = new Map<string, RecordedEvent[]>();
  for (const row of events.rows) {
    const e: RecordedEvent = { ...rowToChained(row).event, recordedAt: new Date(row.recorded_at).getTime() };
    const list = bySession.get(e.sessionId) ?? [];
    list.push(e);
    bySession.set(e.sessionId, list);
  }
  for (const [sessionId, list] of bySession) {
    // A repeat that happened, or was written, after the run's first review opens a new run.
    const afterReview = (first: { kind: string; at: string }, e: RecordedEvent): boolean => {
      const closed = closedAt.get(alertKey(sessionId, first.kind, first.at));
      return closed !== undefined && (Date.parse(e.at) > closed || e.recordedAt > closed);
    };
    for (const run of alertRuns(list, afterReview)) push(sessionId, run.first.kind, runMessage(run), run.first.at, run.count, run.latest.at);
  }
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

/** A verdict as the page sends it: the alert's key, the verdict, a note, and the `lastAt` and `count` the card showed. */
export interface ReviewRequest {
  readonly alert: unknown;
  readonly verdict: unknown;
  readonly note: unknown;
  readonly seen: unknown;
  /** Repeats within one workflow task share a time: the count tells them apart. */
  readonly seenCount: unknown;
}

/** Records a verdict on one alert (it must be one `listAlerts` shows, as it was shown); resolves with the review's seq. */
export async function reviewAlert(pool: pg.Pool, person: Person, given: ReviewRequest, since: Date): Promise<{ seq: number; hash: string }> {
  const { alert: key, verdict, note } = given;
  if (person.role !== 'operator') throw new ConsoleError(403, 'role', `\`${person.principal}\` signs in as ${person.role}, not as an operator`);
  if (verdict !== 'agent-right' && verdict !== 'rule-right') throw new ConsoleError(400, 'verdict', 'expected verdict `agent-right` or `rule-right`');
  if (typeof note !== 'string' || note.length > 2000) throw new ConsoleError(400, 'note', 'the note must be text of at most 2000 characters');
  if (typeof key !== 'string' || key.length > 1000) throw new ConsoleError(400, 'alert', 'expected the alert\'s key');
  if (typeof given.seen !== 'string' || typeof given.seenCount !== 'number') {
    throw new ConsoleError(400, 'seen', 'expected `seen` and `seenCount`: the time of the alert\'s latest occurrence and how many the page showed');
  }
  // Taken before the alert is read, on the clock `recorded_at` is written by: a repeat written after this is outside the verdict.
  const at = new Date((await pool.query<{ now: Date }>('SELECT clock_timestamp() AS now')).rows[0]!.now).toISOString();
  const alert = (await listAlerts(pool, since)).find((a) => a.key === key);
  if (!alert) throw new ConsoleError(404, 'not-found', `no alert \`${key.slice(0, 200)}\` in the reviewed window`);
  if (alert.lastAt !== given.seen || alert.count !== given.seenCount) {
    throw new ConsoleError(409, 'changed', `the alert has ${alert.count} occurrence(s), the latest at ${alert.lastAt}, not what the page showed: reload and review what it shows now`);
  }
  return appendReview(pool, { alertKey: alert.key, sessionId: alert.sessionId, rule: alert.rule, alertAt: alert.at, verdict, note: note.trim(), reviewer: person.principal, keyId: person.keyId, at });
}
