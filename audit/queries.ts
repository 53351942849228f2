/**
 * Read queries over the audit tables, shared by trace, verify, export and backtest. Every driver
 * error is classified (`errors.ts`), so an unreachable database reads as `AuditUnavailableError`.
 */
import type { ClientBase, Pool } from 'pg';
import { classifyPgError, UnknownSessionError } from './errors';
import { EVENT_COLUMNS, SESSION_COLUMNS, rowToChained, rowToSession } from './rows';
import type { EventRow, SessionRow, SessionView } from './rows';
import type { ChainedEvent } from './chain';

/** An alert as recorded. */
export interface AlertView {
  readonly kind: string;
  readonly message: string;
  readonly at: string;
}

async function run<R extends object>(pool: Pool | ClientBase, text: string, values: unknown[]): Promise<R[]> {
  try {
    const result = await pool.query<R>(text, values);
    return result.rows;
  } catch (err) {
    throw classifyPgError(err);
  }
}

/**
 * A session row's policy document in the order the worker enforced it: the verbatim `policy_json`
 * (`065_session_policy_json.sql`), else — a row written before it — the jsonb `policy`, whose keys
 * PostgreSQL reorders. As `json`, so the driver keeps the order too. Every reader that compiles a
 * stored policy selects this, never `policy`: the first matching glob of `tools` wins.
 */
export const STORED_POLICY = 'COALESCE(policy_json, policy::json)';

/** One session's summary row; throws `UnknownSessionError` when there is none. */
export async function getSession(pool: Pool, sessionId: string): Promise<SessionView & { readonly policy: unknown; readonly tools?: unknown }> {
  const rows = await run<SessionRow & { tools: unknown }>(pool, `SELECT ${SESSION_COLUMNS}, ${STORED_POLICY} AS policy, tools FROM sessions WHERE session_id = $1`, [sessionId]);
  const row = rows[0];
  if (row === undefined) throw new UnknownSessionError(sessionId);
  return { ...rowToSession(row), policy: row.policy, ...(row.tools !== null && row.tools !== undefined ? { tools: row.tools } : {}) };
}

/** Options of `listSessions`. */
export interface ListSessionsOptions {
  /** @default 50 */
  readonly limit?: number;
  readonly agentId?: string;
  readonly owner?: string;
}

/** Sessions, newest first. */
export async function listSessions(pool: Pool, opts: ListSessionsOptions = {}): Promise<SessionView[]> {
  const rows = await run<SessionRow>(
    pool,
    `SELECT ${SESSION_COLUMNS} FROM sessions
     WHERE ($1::text IS NULL OR agent_id = $1) AND ($2::text IS NULL OR owner = $2)
     ORDER BY started_at DESC, session_id LIMIT $3`,
    [opts.agentId ?? null, opts.owner ?? null, opts.limit ?? 50],
  );
  return rows.map(rowToSession);
}

/** Options of `readEvents`. */
export interface ReadEventsOptions {
  /** `false` leaves the hashes out (empty strings): readers that only tell the story skip 128 bytes a row. @default true */
  readonly withChain?: boolean;
  /**
   * Only what a story tells: no reasoning and no `detail.result` (what the agent wrote and what its
   * tools returned, the unbounded part of a trail). Such events no longer hash to their chain, so
   * their hashes are left out too, as with `withChain: false`.
   * @default false
   */
  readonly storyOnly?: boolean;
}

const STORY_COLUMN: Readonly<Record<string, string>> = {
  reasoning: 'NULL::text AS reasoning',
  detail: `CASE WHEN jsonb_typeof(detail) = 'object' THEN detail - 'result' ELSE detail END AS detail`,
};

/** Every event of a session in sequence order, with its chain links (see `ReadEventsOptions`). */
export async function readEvents(pool: Pool, sessionId: string, opts: ReadEventsOptions = {}): Promise<ChainedEvent[]> {
  const columns = EVENT_COLUMNS.split(', ').map((c) => {
    if ((opts.withChain === false || opts.storyOnly) && (c === 'prev_hash' || c === 'hash')) return `'' AS ${c}`;
    return (opts.storyOnly ? STORY_COLUMN[c] : undefined) ?? c;
  }).join(', ');
  const rows = await run<EventRow>(pool, `SELECT ${columns} FROM events WHERE session_id = $1 ORDER BY seq`, [sessionId]);
  return rows.map(rowToChained);
}

/** The alerts of a session, oldest first. */
export async function readAlerts(pool: Pool, sessionId: string): Promise<AlertView[]> {
  const rows = await run<{ kind: string; message: string; at: Date }>(
    pool, 'SELECT kind, message, at FROM alerts WHERE session_id = $1 ORDER BY at, id', [sessionId],
  );
  return rows.map((r) => ({ kind: r.kind, message: r.message, at: r.at.toISOString() }));
}

/** Ids of every session that has events, in a stable order. */
export async function sessionIdsWithEvents(pool: Pool): Promise<string[]> {
  const rows = await run<{ session_id: string }>(pool, 'SELECT DISTINCT session_id FROM events ORDER BY session_id', []);
  return rows.map((r) => r.session_id);
}

export { run as runQuery };
