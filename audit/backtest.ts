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
 *
 * Each session is replayed against the tool catalog it recorded (the candidate is compiled once per
 * distinct catalog), so upstream MCP tools and custom catalogs are judged as they ran; a session
 * that recorded none (started before catalogs were recorded) is replayed against the fallback
 * catalog the caller gives, and the report counts those sessions.
 *
 * The history is read by `./backtest-history`.
 */
import type { Pool } from 'pg';
import { compilePolicy, replayAcrossSessions } from '../policies';
import type { CompiledPolicy, PolicyDocument } from '../policies';
import { ledgerRules } from '../policies/ledger';
import type { Decision, OutcomeStatus, ToolInfo, Verdict } from '../policies/types';
import { loadRecordedSessions, type RecordedProposal, type RecordedSession } from './backtest-history';
import { shownLine, shownName } from '../approvals/shown-text';

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
  /** Distinct tool catalogs the replayed sessions recorded: the candidate was compiled against each. */
  readonly catalogsRecorded: number;
  /** Sessions that recorded no tool catalog: replayed against the fallback catalog (the sample's, from the CLI). */
  readonly withoutCatalog: ChangeGroup;
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

/**
 * What would have happened under the candidate. A refusal is a denial; what ran keeps its
 * recorded outcome; what never ran but the candidate lets through is assumed to have run (so it
 * counts against budgets and sequences, the cautious assumption for what follows).
 */
export function replayOutcome(after: Verdict, recorded: RecordedProposal): OutcomeStatus {
  if (after === 'deny') return 'denied';
  const outcome = recorded.outcome;
  if (outcome === 'executed' || outcome === 'failed') return outcome;
  // A human said no, nobody answered, or the re-check refused the approved call: with approval still required, assume the same again.
  if (after === 'approve' && (outcome === 'expired' || (outcome === 'denied' && recorded.recorded?.verdict === 'approve'))) return outcome;
  return 'executed';
}

/** The candidate compiled once per catalog: the policy each session is replayed through. */
export interface Candidate {
  /** The candidate document's hash (whatever the catalog it is compiled against). */
  readonly hash: string;
  readonly policyOf: (session: RecordedSession) => CompiledPolicy;
}

/**
 * Replays sessions through the candidate, together (so its agent-wide and owner-wide rules count
 * every session's calls, in time order); pure. Changes are listed session by session.
 */
export function backtestSessions(candidate: Candidate, sessions: readonly RecordedSession[], since: Date): BacktestReport {
  const sinceMs = since.getTime();
  const bySession = new Map<string, BacktestChange[]>(sessions.map((s) => [s.sessionId, []]));
  let compared = 0;
  let unchanged = 0;
  let undecided = 0;
  replayWithOwnPolicies(candidate, sessions, (sessionId, p, decision) => {
    if (Date.parse(p.at) < sinceMs) return;
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
  const without = sessions.filter((s) => s.catalog === undefined).map((s) => s.sessionId);
  return {
    policyHash: candidate.hash,
    since: since.toISOString(),
    sessionsReplayed: sessions.length,
    catalogsRecorded: new Set(sessions.map((s) => s.catalog).filter((c) => c !== undefined)).size,
    withoutCatalog: { count: without.length, sessions: without },
    proposalsCompared: compared,
    unchanged,
    undecided,
    newlyBlocked: group('deny'),
    newlyAllowed: group('allow'),
    newlyNeedingApproval: group('approve'),
    changes,
  };
}

/** Each session replayed through the candidate compiled for its catalog, together (`replayAcrossSessions`). */
function replayWithOwnPolicies(
  candidate: Candidate,
  sessions: readonly RecordedSession[],
  visit: (sessionId: string, recorded: RecordedProposal, decision: Decision) => void,
): void {
  const toReplay = sessions.map((s) => ({
    sessionId: s.sessionId,
    principal: s.principal,
    owner: s.owner,
    policy: candidate.policyOf(s),
    init: {
      startedAt: Date.parse(s.startedAt),
      ...(s.budget !== undefined ? { budget: s.budget } : {}),
      ...(s.mandate !== undefined ? { mandate: s.mandate } : {}),
      ...(s.intent !== undefined ? { intent: s.intent } : {}),
    },
    steps: s.proposals.map((p) => ({ at: Date.parse(p.at), proposal: p.proposal, facts: p.facts, ...(p.intentScore !== undefined ? { intentScore: p.intentScore } : {}), recorded: p })),
  }));
  const first = toReplay[0];
  if (!first) return;
  replayAcrossSessions(first.policy, toReplay, (decision, step) => replayOutcome(decision.verdict, step.recorded), ({ sessionId, step, decision }) => visit(sessionId, step.recorded, decision));
}

/**
 * Reads the history since `since` and replays it through the candidate document, compiled against
 * each distinct catalog the sessions recorded; `tools` is the catalog for sessions that recorded none.
 */
export async function backtest(pool: Pool, opts: { readonly policy: PolicyDocument; readonly tools: readonly ToolInfo[]; readonly since: Date }): Promise<BacktestReport> {
  // Sessions from as far back as the longest cross-session window: their calls count in the
  // window's ledgers (they are replayed, not compared).
  const { sessions, catalogs } = await loadRecordedSessions(pool, new Date(opts.since.getTime() - longestLedgerWindowMs(opts.policy)));
  const fallback = compilePolicy(opts.policy, opts.tools);
  const compiled = new Map<string, CompiledPolicy>();
  const policyOf = (s: RecordedSession): CompiledPolicy => {
    if (s.catalog === undefined) return fallback;
    let policy = compiled.get(s.catalog);
    if (policy === undefined) {
      policy = compilePolicy(opts.policy, catalogs.get(s.catalog) ?? []);
      compiled.set(s.catalog, policy);
    }
    return policy;
  };
  return backtestSessions({ hash: fallback.hash, policyOf }, sessions, opts.since);
}

/** The longest window of the document's `agent:` / `owner:` rules (0 without any). */
function longestLedgerWindowMs(doc: PolicyDocument): number {
  const rules = [...ledgerRules(doc.agent), ...ledgerRules(doc.owner)];
  return Math.max(0, ...rules.map((r) => (r.kind === 'budget' ? r.windowMs : r.withinMs)));
}

/**
 * The report for people: the three counts with their sessions, then each change. `fallback` names
 * the catalog sessions without a recorded one were replayed against. Session ids and tool names
 * come from the trail (an agent chose them): each line is kept to one line.
 */
export function formatBacktestReport(r: BacktestReport, fallback = 'the sample catalog'): string {
  const out: string[] = [];
  out.push(`candidate policy ${r.policyHash.slice(0, 12)} against history since ${r.since}`);
  out.push(`${r.sessionsReplayed} session(s) replayed, ${r.proposalsCompared} proposal(s) compared, ${r.unchanged} unchanged${r.undecided ? `, ${r.undecided} undecided when recorded` : ''}`);
  if (r.withoutCatalog.count > 0) {
    out.push(`${r.withoutCatalog.count} session(s) recorded no tool catalog: replayed against ${fallback}, where a tool outside it is unknown (denied)`);
  }
  const line = (label: string, g: ChangeGroup): string =>
    `  ${label.padEnd(24)} ${String(g.count).padStart(5)}${g.sessions.length ? `  sessions: ${g.sessions.join(', ')}` : ''}`;
  out.push(line('newly blocked', r.newlyBlocked));
  out.push(line('newly allowed', r.newlyAllowed));
  out.push(line('newly needing approval', r.newlyNeedingApproval));
  if (r.changes.length > 0) {
    out.push('');
    for (const c of r.changes) {
      out.push(`  ${c.at} ${c.sessionId} #${c.proposalSeq} ${shownName(c.tool)}: ${c.before} -> ${c.after}${c.rules.length ? ` (${c.rules.join(', ')})` : ''}`);
    }
  }
  return out.map(shownLine).join('\n');
}
