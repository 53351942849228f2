/**
 * What the sessions pages read: the list (status, agent, owner, counts, intent score; filtered,
 * newest first) from the `sessions` table, counting a running session's calls from its events,
 * and one session's page — the decision-level trace `gatehouse trace` tells (`audit/trace.ts`) as a
 * timeline, the intent score over time from the trail, and the workflow's own live state.
 */
import type pg from 'pg';
import { UnknownSessionError } from '../audit/errors';
import { loadTrace, type ActionStatus } from '../audit/trace';
import type { SessionStateView } from '../workflows/contract';
import { ConsoleError } from './errors';
import type { StateReader } from './inbox';
import { intentChart } from './svg';

export const SESSION_STATUSES = ['running', 'completed', 'halted', 'blocked', 'cancelled', 'error'] as const;

export interface SessionFilters {
  readonly status?: string;
  readonly agent?: string;
  readonly owner?: string;
  /** @default 1000 */
  readonly limit?: number;
}

export interface SessionRowView {
  readonly sessionId: string;
  readonly status: string;
  readonly mode: string;
  readonly agentId: string;
  readonly owner: string;
  readonly intent: string;
  readonly startedAt: string;
  readonly proposals: number;
  readonly executed: number;
  readonly refused: number;
  readonly intentScore: number | null;
  readonly flagged: boolean;
}

const text = (v: unknown, what: string): string | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || v.length > 200) throw new ConsoleError(400, 'filter', `the \`${what}\` filter must be text of at most 200 characters`);
  return v;
};

/** Parses the list's query string; a bad filter is a clear 400. */
export function parseFilters(q: Record<string, unknown>): SessionFilters {
  const status = text(q.status, 'status');
  if (status !== undefined && !(SESSION_STATUSES as readonly string[]).includes(status)) {
    throw new ConsoleError(400, 'filter', `unknown status \`${status.slice(0, 50)}\`: expected one of ${SESSION_STATUSES.join(', ')}`);
  }
  const agent = text(q.agent, 'agent');
  const owner = text(q.owner, 'owner');
  return { ...(status ? { status } : {}), ...(agent ? { agent } : {}), ...(owner ? { owner } : {}) };
}

/** Sessions, newest first, with their counts: a finished one's from its row, a running one's from its events. */
export async function listConsoleSessions(pool: pg.Pool, f: SessionFilters = {}): Promise<SessionRowView[]> {
  const status = f.status ?? null;
  const r = await pool.query(
    `SELECT s.session_id, s.agent_id, s.owner, s.intent, s.mode, s.final_state, s.flagged_for_review, s.counters, s.intent_score, s.started_at,
            c.proposals, c.executed, c.refused
       FROM (SELECT * FROM sessions
              WHERE ($1::text IS NULL OR ($1 = 'running' AND final_state IS NULL) OR final_state = $1)
                AND ($2::text IS NULL OR agent_id = $2) AND ($3::text IS NULL OR owner = $3)
              ORDER BY started_at DESC, session_id LIMIT $4) s
       LEFT JOIN LATERAL (
         SELECT count(*) FILTER (WHERE kind = 'proposed')::int AS proposals,
                count(*) FILTER (WHERE kind = 'executed')::int AS executed,
                count(DISTINCT proposal_seq) FILTER (WHERE kind IN ('denied', 'expired') OR (kind = 'decided' AND decision->>'verdict' = 'deny'))::int AS refused
           FROM events e WHERE e.session_id = s.session_id AND s.final_state IS NULL) c ON true
      ORDER BY s.started_at DESC, s.session_id`,
    [status, f.agent ?? null, f.owner ?? null, Math.min(Math.max(1, f.limit ?? 1000), 5000)],
  );
  return r.rows.map((row) => {
    const counters = (row.counters ?? {}) as Record<string, number>;
    const done = row.final_state !== null;
    return {
      sessionId: row.session_id,
      status: row.final_state ?? 'running',
      mode: row.mode,
      agentId: row.agent_id,
      owner: row.owner,
      intent: row.intent,
      startedAt: new Date(row.started_at).toISOString(),
      proposals: done ? counters.proposals ?? 0 : row.proposals ?? 0,
      executed: done ? counters.executed ?? 0 : row.executed ?? 0,
      refused: done ? (counters.denied ?? 0) + (counters.expired ?? 0) : row.refused ?? 0,
      intentScore: row.intent_score,
      flagged: row.flagged_for_review,
    };
  });
}

/** The latest entries a session's page shows. */
export const MAX_TIMELINE = 200;

/** One entry of a session's timeline: a proposal and what happened to it, or a session event. */
export interface TimelineEntry {
  readonly at: string;
  readonly seq: number;
  readonly kind: 'proposal' | 'note';
  readonly proposalSeq?: number;
  readonly tool?: string;
  readonly args?: Readonly<Record<string, unknown>>;
  readonly verdict?: string;
  readonly rules?: readonly string[];
  readonly status?: ActionStatus;
  /** From the approval request to the decision (or until now while it waits), ms. */
  readonly approvalWaitMs?: number;
  readonly approvers?: readonly string[];
  readonly sentence: string;
}

export interface SessionPage {
  readonly session: Awaited<ReturnType<typeof loadTrace>>['session'];
  readonly timeline: readonly TimelineEntry[];
  /** Entries before the timeline's first, left out (`gatehouse trace` has them all). */
  readonly omitted: number;
  readonly alerts: readonly { kind: string; message: string; at: string }[];
  readonly intentSeries: readonly { at: string; score: number }[];
  /** The intent score over time, drawn on the server (inline SVG). */
  readonly intentSvg: string;
  /** The workflow's own state; absent once the workflow is gone. */
  readonly live?: Pick<SessionStateView, 'paused' | 'pausedTools' | 'halted' | 'ended' | 'mode' | 'budgetLeft' | 'counters'> & { readonly pending: number };
}

export async function sessionPage(pool: pg.Pool, readState: StateReader, sessionId: string, now = Date.now()): Promise<SessionPage> {
  let trace;
  try {
    trace = await loadTrace(pool, sessionId);
  } catch (err) {
    if (err instanceof UnknownSessionError) throw new ConsoleError(404, 'not-found', `no session \`${sessionId.slice(0, 200)}\``);
    throw err;
  }
  const timeline: TimelineEntry[] = [];
  for (const a of trace.actions) {
    const requested = a.events.find((e) => e.kind === 'approval-requested');
    const decidedBy = a.events.filter((e) => (e.kind === 'approved' || e.kind === 'denied') && e.approver !== undefined);
    const closed = a.events.find((e) => e.kind === 'approved' || e.kind === 'denied' || e.kind === 'expired');
    timeline.push({
      at: a.at,
      seq: a.events[0]?.seq ?? 0,
      kind: 'proposal',
      proposalSeq: a.proposalSeq,
      tool: a.tool,
      args: a.args,
      ...(a.decision ? { verdict: a.decision.verdict, rules: a.decision.reasons.map((r) => r.rule) } : {}),
      status: a.status,
      ...(requested ? { approvalWaitMs: Math.max(0, (closed ? Date.parse(closed.at) : now) - Date.parse(requested.at)) } : {}),
      ...(decidedBy.length ? { approvers: decidedBy.map((e) => e.approver!) } : {}),
      sentence: a.sentence,
    });
  }
  for (const n of trace.notes) timeline.push({ at: n.at, seq: n.seq, kind: 'note', sentence: n.sentence });
  timeline.sort((x, y) => x.seq - y.seq);
  const intentSeries: { at: string; score: number }[] = [];
  for (const a of trace.actions) {
    for (const e of a.events) if (typeof e.detail?.intentScore === 'number') intentSeries.push({ at: e.at, score: e.detail.intentScore });
  }
  intentSeries.sort((x, y) => Date.parse(x.at) - Date.parse(y.at));
  const state = await readState(trace.session.workflowId);
  // The page refreshes every two seconds: an agent that floods its trail cannot make it unbounded.
  const shown = timeline.slice(-MAX_TIMELINE);
  return {
    session: trace.session,
    timeline: shown,
    omitted: timeline.length - shown.length,
    alerts: trace.alerts,
    intentSeries,
    intentSvg: intentChart(intentSeries),
    ...(state
      ? { live: { paused: state.paused, pausedTools: state.pausedTools ?? [], halted: state.halted, ended: state.ended, mode: state.mode, budgetLeft: state.budgetLeft, counters: state.counters, pending: state.pendingApprovals.length } }
      : {}),
  };
}
