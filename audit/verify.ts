/**
 * Verification of the audit trail, from the database or from an export file (offline):
 * - the hash chains: every event's hash recomputed from its stored fields, each link checked to
 *   its predecessor; a report names the first broken link of each session (seq, expected vs actual);
 * - the trail's origin (`trail-evidence.ts`): it begins with `session-started`, the sessions table
 *   knows the session and its policy is the one the start names, it started with a credential or
 *   a parent that recorded the spawn, every call that ran was proposed, no seq was contested;
 * - the signed votes (`vote-evidence.ts`): every stored vote envelope re-verified against the
 *   keyset, and every executed call held to its tier under the session's recorded policy — an
 *   approval-tier call backed by valid signed approvals over its digest, a blocked one never run.
 * A report names each session, seq and check id that does not hold up.
 */
import type { Pool } from 'pg';
import { shownLine } from '../approvals/shown-text';
import type { Keyset } from '../policies/trust';
import type { ToolInfo } from '../policies/types';
import { UnknownSessionError } from './errors';
import { checkVoteEvidence, type VoteFinding } from './vote-evidence';
import { checkTrailEvidence, type RecordedFacts } from './trail-evidence';
import { checkReviewChain } from './alert-reviews';
import { checkChain } from './chain';
import type { BrokenLink } from './chain';
import { readAlerts, readEvents, sessionIdsWithEvents, getSession, type AlertView } from './queries';
import type { AuditEventInput } from './types';
import type { AuditExport } from './export';
import { parseExport } from './export';

/** The outcome of a verification. */
export interface VerifyReport {
  readonly ok: boolean;
  readonly sessionsChecked: number;
  readonly eventsChecked: number;
  /** The first broken link of each session whose chain does not hold. */
  readonly broken: readonly BrokenLink[];
  /** Signed votes that do not verify, and executed calls their policy's tier does not let run. */
  readonly votes: readonly VoteFinding[];
  /** Trails that do not hold up against the session's record: start, session row, policy, credential or spawn, proposals. */
  readonly trail: readonly VoteFinding[];
  /** Last hash of each verified chain: the anchor to compare with an earlier export. */
  readonly heads: Readonly<Record<string, string>>;
}

/** Options of the verifications. */
export interface VerifyOptions {
  /** The keyset the votes are checked against; without it every signed vote is a finding. */
  readonly keyset?: Keyset;
  /**
   * The catalog tiers are derived against for sessions that did not record theirs (started before
   * the `tools` column); without it their every executed call is of an unknown, hence blocked, tool.
   */
  readonly tools?: readonly ToolInfo[];
  /** The hashes of the policies the deployment ran: a session under any other is `trail.policy-unknown`. */
  readonly policyHashes?: ReadonlySet<string>;
  /** The tools of the catalogs the deployment ran: a session that recorded a built-in tool unlike them is `trail.catalog-unknown`. */
  readonly knownTools?: readonly ToolInfo[];
}

/**
 * Verifies the chains and the votes in the database: one session (`UnknownSessionError` if it is
 * not recorded) or every session that has events.
 */
export async function verifyDatabase(pool: Pool, opts: VerifyOptions & { readonly sessionId?: string } = {}): Promise<VerifyReport> {
  const ids = opts.sessionId !== undefined ? [opts.sessionId] : await sessionIdsWithEvents(pool);
  const broken: BrokenLink[] = [];
  const votes: VoteFinding[] = [];
  const trail: VoteFinding[] = [];
  const heads: Record<string, string> = {};
  let eventsChecked = 0;
  for (const id of ids) {
    const links = await readEvents(pool, id);
    // A session asked for by name must exist: as a session row or at least as events.
    if (links.length === 0 && opts.sessionId !== undefined) await getSession(pool, id);
    eventsChecked += links.length;
    const bad = checkChain(id, links);
    if (bad !== undefined) broken.push(bad);
    else if (links.length > 0) heads[id] = links[links.length - 1]!.hash;
    const events = links.map((l) => l.event);
    const row = await sessionRow(pool, id);
    const facts = await recordedFacts(pool, row, events, opts.tools);
    const origin = checkTrailEvidence(id, events, { ...facts, ...(opts.policyHashes ? { knownPolicies: opts.policyHashes } : {}), ...(opts.knownTools ? { knownTools: opts.knownTools } : {}) });
    trail.push(...origin.findings);
    votes.push(...checkVoteEvidence(id, events, opts.keyset, {
      ...(row ? { workflowId: row.workflowId, agentId: row.agentId, owner: row.owner } : {}),
      ...(origin.policy ? { policy: origin.policy } : {}),
    }));
  }
  // The whole database: the alert reviews' chain too (people's verdicts, beside the sessions' trails).
  if (opts.sessionId === undefined) {
    const reviews = await checkReviewChain(pool);
    if (!reviews.ok) trail.push({ sessionId: 'alert-reviews', seq: reviews.brokenAt ?? 0, rule: 'trail.reviews', message: `the alert reviews' hash chain breaks at review ${reviews.brokenAt}: a review was changed or removed` });
  }
  return { ok: broken.length === 0 && votes.length === 0 && trail.length === 0, sessionsChecked: ids.length, eventsChecked, broken, votes, trail, heads };
}

type SessionRowFacts = Awaited<ReturnType<typeof getSession>>;

/** The session's row, or undefined when the sessions table does not know it. */
async function sessionRow(pool: Pool, sessionId: string): Promise<SessionRowFacts | undefined> {
  try {
    return await getSession(pool, sessionId);
  } catch (err) {
    if (err instanceof UnknownSessionError) return undefined;
    throw err;
  }
}

/** What the row and the parent's trail say of a session, for `checkTrailEvidence`. */
async function recordedFacts(pool: Pool, row: SessionRowFacts | undefined, events: readonly AuditEventInput[], fallback: readonly ToolInfo[] | undefined): Promise<RecordedFacts> {
  const sessionId = events[0]?.sessionId ?? row?.sessionId;
  const started = events.find((e) => e.kind === 'session-started')?.detail?.parentSessionId;
  const parent = row?.parentSessionId ?? (typeof started === 'string' ? started : undefined);
  const parentEvents = parent !== undefined ? (await readEvents(pool, parent, { withChain: false })).map((l) => l.event) : undefined;
  const conflicts = sessionId !== undefined ? conflictSeqs(await readAlerts(pool, sessionId)) : [];
  // A row is whoever wrote it's: a catalog that is not one is judged as none was recorded (the fallback's tiers).
  const tools = Array.isArray(row?.tools) && row.tools.every(isToolInfo) ? (row.tools as ToolInfo[]) : fallback;
  return {
    known: row !== undefined,
    ...(row ? { policyHash: row.policyHash, policy: row.policy } : {}),
    ...(tools ? { tools } : {}),
    ...(row?.parentSessionId !== undefined ? { parentSessionId: row.parentSessionId } : {}),
    ...(parentEvents ? { parentEvents } : {}),
    conflicts,
  };
}

function isToolInfo(t: unknown): boolean {
  const o = t as Partial<Record<keyof ToolInfo, unknown>> | null;
  return typeof o === 'object' && o !== null && typeof o.name === 'string' && typeof o.effect === 'string' && typeof o.environment === 'string' && typeof o.resource === 'string';
}

/** Seqs named by the session's `audit.conflict` alerts (the store's `AuditConflictError` message). */
function conflictSeqs(alerts: readonly AlertView[]): number[] {
  const seqs = alerts.filter((a) => a.kind === 'audit.conflict').map((a) => /^event (\d+) of session /.exec(a.message)?.[1]);
  return [...new Set(seqs.filter((s): s is string => s !== undefined).map(Number))];
}

/**
 * Verifies an export document offline: the chain of its events, that its stated head is the last
 * hash, and that the policy hash every decision carries is the snapshot's hash.
 */
export function verifyExport(doc: AuditExport, opts: VerifyOptions = {}): VerifyReport {
  const sessionId = doc.session.sessionId;
  const links = doc.events.map((e) => {
    const { prevHash, hash, ...event } = e;
    return { event, prevHash, hash };
  });
  const broken: BrokenLink[] = [];
  const bad = checkChain(sessionId, links);
  if (bad !== undefined) broken.push(bad);
  const last = links[links.length - 1];
  const head = last?.hash ?? doc.chain.genesis;
  if (bad === undefined && head !== doc.chain.head) {
    broken.push({ sessionId, seq: last?.event.seq ?? 0, problem: 'hash', expected: head, actual: doc.chain.head });
  }
  if (bad === undefined && links.length !== doc.chain.length) {
    broken.push({ sessionId, seq: last?.event.seq ?? 0, problem: 'sequence', expected: `${doc.chain.length} events`, actual: `${links.length} events` });
  }
  for (const e of doc.events) {
    const policyHash = (e.decision as { policyHash?: unknown } | undefined)?.policyHash;
    if (typeof policyHash === 'string' && policyHash !== doc.policy.hash) {
      broken.push({ sessionId, seq: e.seq, problem: 'hash', expected: `policy ${doc.policy.hash}`, actual: `policy ${policyHash}` });
      break;
    }
  }
  const s = doc.session;
  const events = links.map((l) => l.event);
  const tools = Array.isArray(doc.policy.tools) && doc.policy.tools.every(isToolInfo) ? (doc.policy.tools as ToolInfo[]) : opts.tools;
  // Offline there is no parent trail to read: the spawn is not checked.
  const origin = checkTrailEvidence(sessionId, events, {
    known: true, policyHash: s.policyHash, policy: doc.policy.document,
    ...(tools ? { tools } : {}), ...(s.parentSessionId !== undefined ? { parentSessionId: s.parentSessionId } : {}),
    conflicts: conflictSeqs(doc.alerts),
    ...(opts.policyHashes ? { knownPolicies: opts.policyHashes } : {}),
    ...(opts.knownTools ? { knownTools: opts.knownTools } : {}),
  });
  const votes = checkVoteEvidence(sessionId, events, opts.keyset, { workflowId: s.workflowId, agentId: s.agentId, owner: s.owner, ...(origin.policy ? { policy: origin.policy } : {}) });
  const trail = origin.findings;
  return {
    ok: broken.length === 0 && votes.length === 0 && trail.length === 0,
    sessionsChecked: 1,
    eventsChecked: links.length,
    broken,
    votes,
    trail,
    heads: broken.length === 0 && last !== undefined ? { [sessionId]: last.hash } : {},
  };
}

/** Reads and verifies an export file's text (`AuditUsageError` when it is not an export). */
export function verifyExportText(text: string, filename: string, opts: VerifyOptions = {}): VerifyReport {
  return verifyExport(parseExport(text, filename), opts);
}

/** One line per finding, for people. */
export function formatVerifyReport(report: VerifyReport): string {
  const lines: string[] = [];
  if (report.ok) {
    lines.push(`ok: ${report.sessionsChecked} session(s), ${report.eventsChecked} event(s): every hash chain holds, every trail is its recorded session's, and every executed call is proven under its policy`);
    return lines.join('\n');
  }
  if (report.broken.length > 0) {
    lines.push(`tampering detected: ${report.broken.length} of ${report.sessionsChecked} session(s) have a broken chain`);
    for (const b of report.broken) {
      lines.push(`  session \`${b.sessionId}\` seq ${b.seq}: ${describeProblem(b.problem)}: expected ${b.expected}, found ${b.actual}`);
    }
  }
  if (report.trail.length > 0) {
    lines.push(`unproven trails: ${report.trail.length} finding(s)`);
    // Findings quote what a trail or row says (tool names, ids): one line each, whatever their writer put in.
    for (const t of report.trail) lines.push(`  session \`${shownLine(t.sessionId)}\` seq ${t.seq}: ${t.rule}: ${shownLine(t.message)}`);
  }
  if (report.votes.length > 0) {
    lines.push(`unproven decisions: ${report.votes.length} vote finding(s)`);
    for (const v of report.votes) lines.push(`  session \`${shownLine(v.sessionId)}\` seq ${v.seq}: ${v.rule}: ${shownLine(v.message)}`);
  }
  return lines.join('\n');
}

function describeProblem(problem: BrokenLink['problem']): string {
  switch (problem) {
    case 'hash': return 'content does not match its hash (the event was altered)';
    case 'prev-hash': return 'does not link to the previous event (an earlier event was altered or removed)';
    case 'sequence': return 'sequence broken (an event was removed or inserted)';
  }
}
