/**
 * Verification of the audit trail, from the database or from an export file (offline):
 * - the hash chains: every event's hash recomputed from its stored fields, each link checked to
 *   its predecessor; a report names the first broken link of each session (seq, expected vs actual);
 * - the signed votes (`vote-evidence.ts`): every stored vote envelope re-verified against the
 *   keyset, and every executed approval-tier call backed by valid signed approvals over its digest;
 *   a report names each session and seq that does not hold up.
 */
import type { Pool } from 'pg';
import type { Keyset } from '../policies/trust';
import { UnknownSessionError } from './errors';
import { checkVoteEvidence, type SessionFacts, type VoteFinding } from './vote-evidence';
import { checkChain } from './chain';
import type { BrokenLink } from './chain';
import { readEvents, sessionIdsWithEvents, getSession } from './queries';
import type { AuditExport } from './export';
import { parseExport } from './export';

/** The outcome of a verification. */
export interface VerifyReport {
  readonly ok: boolean;
  readonly sessionsChecked: number;
  readonly eventsChecked: number;
  /** The first broken link of each session whose chain does not hold. */
  readonly broken: readonly BrokenLink[];
  /** Signed votes that do not verify, and executed approval-tier calls without valid ones. */
  readonly votes: readonly VoteFinding[];
  /** Last hash of each verified chain: the anchor to compare with an earlier export. */
  readonly heads: Readonly<Record<string, string>>;
}

/** Options of the verifications. */
export interface VerifyOptions {
  /** The keyset the votes are checked against; without it every signed vote is a finding. */
  readonly keyset?: Keyset;
}

/**
 * Verifies the chains and the votes in the database: one session (`UnknownSessionError` if it is
 * not recorded) or every session that has events.
 */
export async function verifyDatabase(pool: Pool, opts: VerifyOptions & { readonly sessionId?: string } = {}): Promise<VerifyReport> {
  const ids = opts.sessionId !== undefined ? [opts.sessionId] : await sessionIdsWithEvents(pool);
  const broken: BrokenLink[] = [];
  const votes: VoteFinding[] = [];
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
    votes.push(...checkVoteEvidence(id, links.map((l) => l.event), opts.keyset, await sessionFacts(pool, id)));
  }
  return { ok: broken.length === 0 && votes.length === 0, sessionsChecked: ids.length, eventsChecked, broken, votes, heads };
}

/** The session row's facts, for trails that do not carry them in their events. */
async function sessionFacts(pool: Pool, sessionId: string): Promise<SessionFacts> {
  try {
    const s = await getSession(pool, sessionId);
    return { workflowId: s.workflowId, agentId: s.agentId, owner: s.owner };
  } catch (err) {
    if (err instanceof UnknownSessionError) return {};
    throw err;
  }
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
  const votes = checkVoteEvidence(sessionId, links.map((l) => l.event), opts.keyset, { workflowId: s.workflowId, agentId: s.agentId, owner: s.owner });
  return {
    ok: broken.length === 0 && votes.length === 0,
    sessionsChecked: 1,
    eventsChecked: links.length,
    broken,
    votes,
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
    lines.push(`ok: ${report.sessionsChecked} session(s), ${report.eventsChecked} event(s): every hash chain holds and every signed vote verifies`);
    return lines.join('\n');
  }
  if (report.broken.length > 0) {
    lines.push(`tampering detected: ${report.broken.length} of ${report.sessionsChecked} session(s) have a broken chain`);
    for (const b of report.broken) {
      lines.push(`  session \`${b.sessionId}\` seq ${b.seq}: ${describeProblem(b.problem)}: expected ${b.expected}, found ${b.actual}`);
    }
  }
  if (report.votes.length > 0) {
    lines.push(`unproven decisions: ${report.votes.length} vote finding(s)`);
    for (const v of report.votes) lines.push(`  session \`${v.sessionId}\` seq ${v.seq}: ${v.rule}: ${v.message}`);
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
