/**
 * Verification of the hash chains: recomputes every event's hash from its stored fields and
 * checks each link to its predecessor, from the database or from an export file (offline).
 * A report names the first broken link of each session: session, seq, expected vs actual.
 */
import type { Pool } from 'pg';
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
  /** Last hash of each verified chain: the anchor to compare with an earlier export. */
  readonly heads: Readonly<Record<string, string>>;
}

/**
 * Verifies the chains in the database: one session (`UnknownSessionError` if it is not recorded)
 * or every session that has events.
 */
export async function verifyDatabase(pool: Pool, opts: { readonly sessionId?: string } = {}): Promise<VerifyReport> {
  const ids = opts.sessionId !== undefined ? [opts.sessionId] : await sessionIdsWithEvents(pool);
  const broken: BrokenLink[] = [];
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
  }
  return { ok: broken.length === 0, sessionsChecked: ids.length, eventsChecked, broken, heads };
}

/**
 * Verifies an export document offline: the chain of its events, that its stated head is the last
 * hash, and that the policy hash every decision carries is the snapshot's hash.
 */
export function verifyExport(doc: AuditExport): VerifyReport {
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
  return {
    ok: broken.length === 0,
    sessionsChecked: 1,
    eventsChecked: links.length,
    broken,
    heads: broken.length === 0 && last !== undefined ? { [sessionId]: last.hash } : {},
  };
}

/** Reads and verifies an export file's text (`AuditUsageError` when it is not an export). */
export function verifyExportText(text: string, filename: string): VerifyReport {
  return verifyExport(parseExport(text, filename));
}

/** One line per finding, for people. */
export function formatVerifyReport(report: VerifyReport): string {
  const lines: string[] = [];
  if (report.ok) {
    lines.push(`ok: ${report.sessionsChecked} session(s), ${report.eventsChecked} event(s): every hash chain holds`);
  } else {
    lines.push(`tampering detected: ${report.broken.length} of ${report.sessionsChecked} session(s) have a broken chain`);
    for (const b of report.broken) {
      lines.push(`  session \`${b.sessionId}\` seq ${b.seq}: ${describeProblem(b.problem)}: expected ${b.expected}, found ${b.actual}`);
    }
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
