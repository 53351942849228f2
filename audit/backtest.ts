/**
 * Backtesting a candidate policy against recorded history: every recorded proposal is replayed,
 * in order per session, through the candidate (the same pure `evaluate`/`advance` the workflow
 * runs), and compared with the decision that was recorded. Reports what would change — newly
 * blocked, newly allowed, newly needing approval — with counts and the sessions affected.
 *
 * Replays start at each session's first proposal (budgets, windows and sequence rules need the
 * whole history) but only proposals made inside the window are compared. Sessions are replayed
 * together, in time order, so agent-wide and owner-wide rules (`agent:`, `owner:`) count the calls
 * of every session of an agent (or owner) in the window, as the live ledgers do.
 */
import type { Pool } from 'pg';
import { compilePolicy, replayAcrossSessions } from '../policies';
import type { CompiledPolicy, PolicyDocument } from '../policies';
import { ledgerRules } from '../policies/ledger';
import type { Decision, OutcomeStatus, Proposal, ProposalFacts, ToolInfo, Verdict } from '../policies/types';
import type { AuditEventInput } from './types';
import { runQuery } from './queries';
import { EVENT_COLUMNS, rowToChained } from './rows';
import type { EventRow } from './rows';

/** One proposal whose verdict the candidate changes. */
export interface BacktestChange {
  readonly sessionId: string;
  readonly proposalSeq: number;
  readonly at: string;
  readonly tool: string;
  readonly before: Verdict;
  readonly after: Verdict;
  /** Rule ids behind the candidate's decision. */
  readonly rules: readonly string[];
}

/** How many proposals moved into one verdict, and in which sessions. */
export interface ChangeGroup {
  readonly count: number;
  readonly sessions: readonly string[];
}

export interface BacktestReport {
  readonly policyHash: string;
  readonly since: string;
  readonly sessionsReplayed: number;
  /** Proposals inside the window compared with their recorded decision. */
  readonly proposalsCompared: number;
  readonly unchanged: number;
  /** Proposals in the window with no recorded decision (still pending when recorded). */
  readonly undecided: number;
  readonly newlyBlocked: ChangeGroup;
  readonly newlyAllowed: ChangeGroup;
  readonly newlyNeedingApproval: ChangeGroup;
  readonly changes: readonly BacktestChange[];
}

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
  readonly proposals: readonly RecordedProposal[];
}

/**
 * Reads every session with a proposal at or after `since`, whole, in sequence order, with the
 * agent its calls count against (a sub-agent's root agent, followed up its parents) and its owner.
 */
export async function loadRecordedSessions(pool: Pool, since: Date): Promise<RecordedSession[]> {
  const rows = await runQuery<EventRow & { started_at: Date; principal: string; owner: string }>(
    pool,
    `WITH RECURSIVE wanted AS (SELECT DISTINCT session_id FROM events WHERE kind = 'proposed' AND at >= $1),
       up AS (SELECT w.session_id AS leaf, s.session_id, s.parent_session_id, s.agent_id, 0 AS depth
                FROM wanted w JOIN sessions s USING (session_id)
              UNION ALL
              SELECT up.leaf, p.session_id, p.parent_session_id, p.agent_id, up.depth + 1
                FROM up JOIN sessions p ON p.session_id = up.parent_session_id WHERE up.depth < 64),
       root AS (SELECT DISTINCT ON (leaf) leaf, agent_id FROM up ORDER BY leaf, depth DESC)
     SELECT ${EVENT_COLUMNS.split(', ').map((c) => `e.${c}`).join(', ')}, s.started_at, s.owner, root.agent_id AS principal
       FROM events e JOIN sessions s USING (session_id) JOIN root ON root.leaf = e.session_id
      ORDER BY e.session_id, e.seq`,
    [since],
  );
  const sessions: RecordedSession[] = [];
  let i = 0;
  while (i < rows.length) {
    const first = rows[i]!;
    const sessionId = first.session_id;
    const events: AuditEventInput[] = [];
    while (i < rows.length && rows[i]!.session_id === sessionId) events.push(rowToChained(rows[i++]!).event);
    sessions.push(recordedSession({ sessionId, startedAt: first.started_at.toISOString(), principal: first.principal, owner: first.owner }, events));
  }
  return sessions;
}

/** Folds a session's events into its proposals (pure). */
export function recordedSession(
  session: { readonly sessionId: string; readonly startedAt: string; readonly principal: string; readonly owner: string },
  events: readonly AuditEventInput[],
): RecordedSession {
  const { sessionId, startedAt, principal, owner } = session;
  const started = events.find((e) => e.kind === 'session-started');
  const budget = started?.detail?.budget as Record<string, number> | undefined;
  const mandate = started?.detail?.mandate as RecordedSession['mandate'] | undefined;
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
      ...(outcomeOf(list, recorded) !== undefined ? { outcome: outcomeOf(list, recorded)! } : {}),
      ...(score !== undefined ? { intentScore: score } : {}),
    });
  }
  return {
    sessionId, startedAt, principal, owner, proposals,
    ...(budget !== undefined ? { budget } : {}),
    ...(mandate !== undefined ? { mandate } : {}),
  };
}

function outcomeOf(events: readonly AuditEventInput[], recorded: Decision | undefined): OutcomeStatus | undefined {
  for (const kind of ['executed', 'failed', 'expired', 'denied'] as const) {
    if (events.some((e) => e.kind === kind)) return kind;
  }
  return recorded?.verdict === 'deny' ? 'denied' : undefined;
}

/**
 * What would have happened under the candidate. A refusal is a denial; what ran keeps its
 * recorded outcome; what never ran but the candidate lets through is assumed to have run (so it
 * counts against budgets and sequences, the cautious assumption for what follows).
 */
export function replayOutcome(after: Verdict, recorded: RecordedProposal): OutcomeStatus {
  if (after === 'deny') return 'denied';
  const outcome = recorded.outcome;
  if (outcome === 'executed' || outcome === 'failed') return outcome;
  // A human said no or nobody answered: with approval still required, assume the same again.
  if (after === 'approve' && (outcome === 'expired' || (outcome === 'denied' && recorded.recorded?.verdict === 'approve'))) return outcome;
  return 'executed';
}

/**
 * Replays sessions through a compiled candidate, together (so its agent-wide and owner-wide rules
 * count every session's calls, in time order); pure. Changes are listed session by session.
 */
export function backtestSessions(policy: CompiledPolicy, sessions: readonly RecordedSession[], since: Date): BacktestReport {
  const sinceMs = since.getTime();
  const bySession = new Map<string, BacktestChange[]>(sessions.map((s) => [s.sessionId, []]));
  let compared = 0;
  let unchanged = 0;
  let undecided = 0;
  const toReplay = sessions.map((s) => ({
    sessionId: s.sessionId,
    principal: s.principal,
    owner: s.owner,
    init: {
      startedAt: Date.parse(s.startedAt),
      ...(s.budget !== undefined ? { budget: s.budget } : {}),
      ...(s.mandate !== undefined ? { mandate: s.mandate } : {}),
    },
    steps: s.proposals.map((p) => ({ at: Date.parse(p.at), proposal: p.proposal, facts: p.facts, ...(p.intentScore !== undefined ? { intentScore: p.intentScore } : {}), recorded: p })),
  }));
  replayAcrossSessions(policy, toReplay, (decision, step) => replayOutcome(decision.verdict, step.recorded), ({ sessionId, step, decision }) => {
    if (step.at < sinceMs) return;
    const p = step.recorded;
    if (p.recorded === undefined) {
      undecided += 1;
      return;
    }
    compared += 1;
    if (p.recorded.verdict === decision.verdict) unchanged += 1;
    else bySession.get(sessionId)!.push({
      sessionId, proposalSeq: p.proposalSeq, at: p.at, tool: p.proposal.tool,
      before: p.recorded.verdict, after: decision.verdict, rules: decision.reasons.map((r) => r.rule),
    });
  });
  const changes = [...bySession.values()].flatMap((c) => c.sort((a, b) => a.proposalSeq - b.proposalSeq));
  const group = (verdict: Verdict): ChangeGroup => {
    const hits = changes.filter((c) => c.after === verdict);
    return { count: hits.length, sessions: [...new Set(hits.map((c) => c.sessionId))] };
  };
  return {
    policyHash: policy.hash,
    since: since.toISOString(),
    sessionsReplayed: sessions.length,
    proposalsCompared: compared,
    unchanged,
    undecided,
    newlyBlocked: group('deny'),
    newlyAllowed: group('allow'),
    newlyNeedingApproval: group('approve'),
    changes,
  };
}

/** Reads the history since `since` and replays it through the candidate document. */
export async function backtest(pool: Pool, opts: { readonly policy: PolicyDocument; readonly tools: readonly ToolInfo[]; readonly since: Date }): Promise<BacktestReport> {
  const compiled = compilePolicy(opts.policy, opts.tools);
  // Sessions from as far back as the longest cross-session window: their calls count in the
  // window's ledgers (they are replayed, not compared).
  const sessions = await loadRecordedSessions(pool, new Date(opts.since.getTime() - longestLedgerWindowMs(opts.policy)));
  return backtestSessions(compiled, sessions, opts.since);
}

/** The longest window of the document's `agent:` / `owner:` rules (0 without any). */
function longestLedgerWindowMs(doc: PolicyDocument): number {
  const rules = [...ledgerRules(doc.agent), ...ledgerRules(doc.owner)];
  return Math.max(0, ...rules.map((r) => (r.kind === 'budget' ? r.windowMs : r.withinMs)));
}

/** The report for people: the three counts with their sessions, then each change. */
export function formatBacktestReport(r: BacktestReport): string {
  const out: string[] = [];
  out.push(`candidate policy ${r.policyHash.slice(0, 12)} against history since ${r.since}`);
  out.push(`${r.sessionsReplayed} session(s) replayed, ${r.proposalsCompared} proposal(s) compared, ${r.unchanged} unchanged${r.undecided ? `, ${r.undecided} undecided when recorded` : ''}`);
  const line = (label: string, g: ChangeGroup): string =>
    `  ${label.padEnd(24)} ${String(g.count).padStart(5)}${g.sessions.length ? `  sessions: ${g.sessions.join(', ')}` : ''}`;
  out.push(line('newly blocked', r.newlyBlocked));
  out.push(line('newly allowed', r.newlyAllowed));
  out.push(line('newly needing approval', r.newlyNeedingApproval));
  if (r.changes.length > 0) {
    out.push('');
    for (const c of r.changes) {
      out.push(`  ${c.at} ${c.sessionId} #${c.proposalSeq} ${c.tool}: ${c.before} -> ${c.after}${c.rules.length ? ` (${c.rules.join(', ')})` : ''}`);
    }
  }
  return out.join('\n');
}
