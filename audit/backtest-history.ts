/**
 * The recorded history a backtest replays: every session with a proposal since a time, with the
 * agent its calls count against, its owner and the tool catalog it recorded, folded into its
 * proposals. Read one session at a time, in pages, in one read-only snapshot, and only what the
 * replay uses: never the agents' reasoning, nor the results and other details beside a call.
 */
import type { ClientBase, Pool } from 'pg';
import type { Decision, OutcomeStatus, Proposal, ProposalFacts, ToolInfo } from '../policies/types';
import type { AuditEventInput, AuditEventKind } from './types';
import { runQuery } from './queries';
import type { EventRow } from './rows';

/** One recorded proposal with what happened to it. */
export interface RecordedProposal {
  readonly proposalSeq: number;
  readonly at: string;
  readonly proposal: Proposal;
  readonly facts: ProposalFacts;
  readonly recorded?: Decision;
  readonly outcome?: OutcomeStatus;
  readonly intentScore?: number;
}

/** A recorded session ready to replay. */
export interface RecordedSession {
  readonly sessionId: string;
  readonly startedAt: string;
  /** Whose ledgers its calls count in: the root agent of its sub-agent chain, and its owner. */
  readonly principal: string;
  readonly owner: string;
  readonly budget?: Readonly<Record<string, number>>;
  readonly mandate?: { readonly tools?: readonly string[]; readonly resources?: readonly string[] };
  /** The intent it declared at start (what `intent.writesNeedWriteIntent` reads). */
  readonly intent?: string;
  /** The key of the tool catalog it recorded (in `RecordedHistory.catalogs`); absent when it recorded none. */
  readonly catalog?: string;
  readonly proposals: readonly RecordedProposal[];
}

/** The recorded sessions, and the distinct tool catalogs they ran with. */
export interface RecordedHistory {
  readonly sessions: readonly RecordedSession[];
  /** Each distinct recorded catalog by its key (a digest of its stored JSON). */
  readonly catalogs: ReadonlyMap<string, readonly ToolInfo[]>;
}

/** Events of one session read per query (a flooded session is read in several). */
export const BACKTEST_PAGE_ROWS = 1000;

/**
 * Reads every session with a proposal at or after `since`, in sequence order, with the agent its
 * calls count against (a sub-agent's root agent, followed up its parents), its owner and the key of
 * the tool catalog it recorded. Sessions are read one at a time, in pages of `BACKTEST_PAGE_ROWS`
 * events, each row only with the columns (and detail fields) the replay uses: what is held is every
 * proposal's tool, arguments and decision, never the reasoning or results beside them. One
 * read-only snapshot: a session written meanwhile is read as it was when the first query ran.
 */
export async function loadRecordedSessions(pool: Pool, since: Date): Promise<RecordedHistory> {
  const db = await pool.connect();
  let committed = false;
  try {
    await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const history = await readHistory(db, since);
    await db.query('COMMIT');
    committed = true;
    return history;
  } finally {
    if (!committed) await db.query('ROLLBACK').catch(() => undefined);
    db.release();
  }
}

async function readHistory(pool: ClientBase, since: Date): Promise<RecordedHistory> {
  const heads = await runQuery<{ session_id: string; started_at: Date; principal: string; owner: string; catalog: string | null }>(
    pool,
    `WITH RECURSIVE wanted AS (SELECT DISTINCT session_id FROM events WHERE kind = 'proposed' AND at >= $1),
       up AS (SELECT w.session_id AS leaf, s.session_id, s.parent_session_id, s.agent_id, 0 AS depth
                FROM wanted w JOIN sessions s USING (session_id)
              UNION ALL
              SELECT up.leaf, p.session_id, p.parent_session_id, p.agent_id, up.depth + 1
                FROM up JOIN sessions p ON p.session_id = up.parent_session_id WHERE up.depth < 64),
       root AS (SELECT DISTINCT ON (leaf) leaf, agent_id FROM up ORDER BY leaf, depth DESC)
     SELECT s.session_id, s.started_at, s.owner, root.agent_id AS principal,
            CASE WHEN jsonb_typeof(s.tools) = 'array' THEN md5(s.tools::text) END AS catalog
       FROM sessions s JOIN root ON root.leaf = s.session_id
      ORDER BY s.session_id`,
    [since],
  );
  const sessions: RecordedSession[] = [];
  const catalogs = new Map<string, readonly ToolInfo[]>();
  for (const head of heads) {
    if (head.catalog !== null && !catalogs.has(head.catalog)) catalogs.set(head.catalog, await readCatalog(pool, head.session_id));
    const events = await readReplayEvents(pool, head.session_id);
    sessions.push(recordedSession({
      sessionId: head.session_id, startedAt: head.started_at.toISOString(), principal: head.principal, owner: head.owner,
      ...(head.catalog !== null ? { catalog: head.catalog } : {}),
    }, events));
  }
  return { sessions, catalogs };
}

async function readCatalog(pool: ClientBase, sessionId: string): Promise<readonly ToolInfo[]> {
  const rows = await runQuery<{ tools: ToolInfo[] }>(pool, 'SELECT tools FROM sessions WHERE session_id = $1', [sessionId]);
  return rows[0]?.tools ?? [];
}

/** An `events` row as `readReplayEvents` selects it: what the replay uses, nothing the agent wrote beside it. */
type ReplayEventRow = Pick<EventRow, 'seq' | 'kind' | 'at' | 'proposal_seq' | 'tool' | 'args' | 'token_cost'> & {
  readonly decision: Decision | null;
  readonly blast_radius: unknown;
  readonly intent_score: unknown;
  readonly budget: unknown;
  readonly mandate: unknown;
  readonly intent: unknown;
};

/**
 * The events of one session the replay folds (its start and its proposals' events), in pages: the
 * tool, arguments and token cost of a proposal, each decision, and of `detail` only the blast radius,
 * intent score, budget, mandate and declared intent. Reasoning, results and errors are never read.
 */
async function readReplayEvents(pool: ClientBase, sessionId: string): Promise<AuditEventInput[]> {
  const events: AuditEventInput[] = [];
  let after = 0;
  for (;;) {
    const rows = await runQuery<ReplayEventRow>(
      pool,
      `SELECT seq, kind, at, proposal_seq,
              CASE WHEN kind = 'proposed' THEN tool END AS tool,
              CASE WHEN kind = 'proposed' THEN args END AS args,
              CASE WHEN kind = 'proposed' THEN token_cost END AS token_cost,
              decision,
              detail -> 'blastRadius' AS blast_radius, detail -> 'intentScore' AS intent_score,
              CASE WHEN kind = 'session-started' THEN detail -> 'budget' END AS budget,
              CASE WHEN kind = 'session-started' THEN detail -> 'mandate' END AS mandate,
              CASE WHEN kind = 'session-started' THEN detail -> 'intent' END AS intent
         FROM events
        WHERE session_id = $1 AND seq > $2 AND (proposal_seq IS NOT NULL OR kind = 'session-started')
        ORDER BY seq LIMIT $3`,
      [sessionId, after, BACKTEST_PAGE_ROWS],
    );
    for (const row of rows) events.push(replayEvent(sessionId, row));
    if (rows.length < BACKTEST_PAGE_ROWS) return events;
    after = rows[rows.length - 1]!.seq;
  }
}

function replayEvent(sessionId: string, row: ReplayEventRow): AuditEventInput {
  const detail: Record<string, unknown> = {};
  const details: [string, unknown][] = [['blastRadius', row.blast_radius], ['intentScore', row.intent_score], ['budget', row.budget], ['mandate', row.mandate], ['intent', row.intent]];
  for (const [key, value] of details) if (value !== null && value !== undefined) detail[key] = value;
  return {
    sessionId,
    seq: row.seq,
    kind: row.kind as AuditEventKind,
    at: (row.at instanceof Date ? row.at : new Date(row.at)).toISOString(),
    ...(row.proposal_seq !== null ? { proposalSeq: row.proposal_seq } : {}),
    ...(row.tool !== null ? { tool: row.tool } : {}),
    ...(row.args !== null ? { args: row.args } : {}),
    ...(row.token_cost !== null ? { tokenCost: row.token_cost } : {}),
    ...(row.decision !== null ? { decision: row.decision } : {}),
    ...(Object.keys(detail).length > 0 ? { detail } : {}),
  };
}

/**
 * Folds a session's events into its proposals (pure). A proposal's reasoning is replayed as recorded
 * when the events carry it (`loadRecordedSessions` leaves it out: no rule reads it).
 */
export function recordedSession(
  session: { readonly sessionId: string; readonly startedAt: string; readonly principal: string; readonly owner: string; readonly catalog?: string },
  events: readonly AuditEventInput[],
): RecordedSession {
  const { sessionId, startedAt, principal, owner, catalog } = session;
  const started = events.find((e) => e.kind === 'session-started');
  const budget = started?.detail?.budget as Record<string, number> | undefined;
  const mandate = started?.detail?.mandate as RecordedSession['mandate'] | undefined;
  const intent = typeof started?.detail?.intent === 'string' ? started.detail.intent : undefined;
  const byProposal = new Map<number, AuditEventInput[]>();
  for (const e of events) {
    if (e.proposalSeq === undefined) continue;
    const list = byProposal.get(e.proposalSeq) ?? [];
    list.push(e);
    byProposal.set(e.proposalSeq, list);
  }
  const proposals: RecordedProposal[] = [];
  for (const [proposalSeq, list] of [...byProposal.entries()].sort((a, b) => a[0] - b[0])) {
    const proposed = list.find((e) => e.kind === 'proposed');
    if (proposed === undefined || proposed.tool === undefined) continue;
    const recorded = list.find((e) => e.decision !== undefined)?.decision;
    const blast = list.map((e) => e.detail?.blastRadius).find((v): v is number => typeof v === 'number');
    const score = list.map((e) => e.detail?.intentScore).find((v): v is number => typeof v === 'number');
    const outcome = outcomeOf(list);
    proposals.push({
      proposalSeq,
      at: proposed.at,
      proposal: {
        tool: proposed.tool,
        args: proposed.args ?? {},
        reasoning: proposed.reasoning ?? '',
        ...(proposed.tokenCost !== undefined ? { tokenCost: proposed.tokenCost } : {}),
      },
      facts: blast !== undefined ? { blastRadius: blast } : {},
      ...(recorded !== undefined ? { recorded } : {}),
      ...(outcome !== undefined ? { outcome } : {}),
      ...(score !== undefined ? { intentScore: score } : {}),
    });
  }
  return {
    sessionId, startedAt, principal, owner, proposals,
    ...(catalog !== undefined ? { catalog } : {}),
    ...(budget !== undefined ? { budget } : {}),
    ...(mandate !== undefined ? { mandate } : {}),
    ...(intent !== undefined ? { intent } : {}),
  };
}

function outcomeOf(events: readonly AuditEventInput[]): OutcomeStatus | undefined {
  for (const kind of ['executed', 'failed', 'expired', 'denied'] as const) {
    if (events.some((e) => e.kind === kind)) return kind;
  }
  // A refusal records only its decision: the policy's at once, or the re-check's just before an
  // approved call would have run (`stage: 'before-run'`). Either way nothing ran.
  return events.some((e) => e.decision?.verdict === 'deny') ? 'denied' : undefined;
}
