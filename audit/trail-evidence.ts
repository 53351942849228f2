/**
 * Where a trail comes from, checked against what does not come from the trail: the session's row
 * (its policy document and tool catalog) and its parent's trail. A trail must begin with
 * `session-started`, belong to a session the `sessions` table knows, start under the policy its
 * row recorded (the hash in the start event), name the agent credential it started with — or, for
 * a sub-agent, a parent that recorded the spawn — and propose every call that ran. The compiled
 * policy it returns is what `vote-evidence.ts` re-derives each executed call's tier from.
 *
 * Pure: the same trail and facts always give the same findings.
 */
import { compilePolicy, parsePolicy, type CompiledPolicy } from '../policies';
import { canonicalJson, sha256Hex } from '../policies/hash';
import type { ToolInfo } from '../policies/types';
import { catalogMismatches } from './catalog-evidence';
import type { AuditEventInput } from './types';
import type { VoteFinding } from './vote-evidence';

/** What the `sessions` table (or an export) records of a session, and what its parent's trail says. */
export interface RecordedFacts {
  /** The sessions table has a row for the session. */
  readonly known: boolean;
  readonly policyHash?: string;
  /** The policy document the row recorded, in the order the worker enforced it (`STORED_POLICY`). */
  readonly policy?: unknown;
  /** The catalog the session compiled its policy against (the row's, else the verifier's fallback). */
  readonly tools?: readonly ToolInfo[];
  readonly parentSessionId?: string;
  /** The parent's events, when the parent can be read (`undefined`: not checked, e.g. offline). */
  readonly parentEvents?: readonly AuditEventInput[];
  /** Seqs another writer took, from the session's `audit.conflict` alerts. */
  readonly conflicts?: readonly number[];
  /**
   * The hashes of the policies the deployment ran (`audit verify --policy`): a session recorded under
   * any other is a finding, since whoever writes a session's row and trail also chooses its policy.
   */
  readonly knownPolicies?: ReadonlySet<string>;
  /**
   * The tools of the catalogs the deployment ran (`audit verify --catalog`): a recorded built-in
   * tool unlike all of them is a finding, since the tiers are derived from the recorded effects.
   */
  readonly knownTools?: readonly ToolInfo[];
}

/** The findings, and the session's policy compiled when its record holds up. */
export interface TrailEvidence {
  readonly findings: VoteFinding[];
  readonly policy?: CompiledPolicy;
}

function record(value: unknown): Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The findings of one session's events (in seq order) against its record. */
export function checkTrailEvidence(sessionId: string, events: readonly AuditEventInput[], facts: RecordedFacts): TrailEvidence {
  const findings: VoteFinding[] = [];
  const find = (seq: number, rule: VoteFinding['rule'], message: string): void => {
    findings.push({ sessionId, seq, rule, message });
  };
  const first = events[0];
  if (first === undefined) return { findings };
  const start = first.kind === 'session-started' ? first : undefined;
  if (!start) find(first.seq, 'trail.start', `the trail begins with \`${first.kind}\`, not \`session-started\``);
  const executed = events.filter((e) => e.kind === 'executed');

  if (!facts.known) {
    // Nothing Gatehouse started: every call it says ran is unproven.
    for (const e of executed.length > 0 ? executed : [first]) {
      find(e.seq, 'trail.unknown-session', e.kind === 'executed'
        ? `\`${e.tool ?? 'a call'}\` ran in a session the sessions table does not know`
        : 'the sessions table does not know this session');
    }
  }

  const started = record(start?.detail);
  const at = start?.seq ?? first.seq;
  const parent = text(started.parentSessionId);
  if (start && parent === undefined && text(started.credentialId) === undefined) {
    find(at, 'trail.credential', 'the session started with no agent credential and no parent');
  }
  if (parent !== undefined) {
    if (facts.known && facts.parentSessionId !== parent) {
      find(at, 'trail.spawn', `the start names parent \`${parent}\`, the sessions table \`${facts.parentSessionId ?? 'none'}\``);
    } else if (facts.parentEvents !== undefined && !facts.parentEvents.some((e) => spawned(e, sessionId))) {
      find(at, 'trail.spawn', `parent \`${parent}\` never recorded spawning this session`);
    }
  }

  let policy: CompiledPolicy | undefined;
  if (facts.known) {
    const named = text(started.policyHash);
    const stored = facts.policy === undefined || facts.policy === null ? undefined : sha256Hex(canonicalJson(facts.policy));
    if (stored === undefined) find(at, 'trail.policy', 'the sessions table holds no policy document for the session');
    else if (named === undefined) find(at, 'trail.policy', 'the start event names no policy hash');
    else if (named !== stored || facts.policyHash !== stored) {
      find(at, 'trail.policy', `the start names policy \`${named.slice(0, 12)}\`, the recorded document hashes to \`${stored.slice(0, 12)}\``);
    } else {
      policy = compiled(facts.policy, facts.tools ?? []);
      if (!policy) find(at, 'trail.policy', 'the recorded policy document does not parse');
      else if (facts.knownPolicies && !facts.knownPolicies.has(stored)) {
        find(at, 'trail.policy-unknown', `the session ran under policy \`${stored.slice(0, 12)}\`, none of the policies given to verify against`);
      }
    }
    if (facts.knownTools) {
      for (const message of catalogMismatches(facts.tools ?? [], facts.knownTools)) find(at, 'trail.catalog-unknown', message);
    }
  }

  const proposed = new Set<string>();
  for (const e of events) {
    if (e.kind === 'proposed' && e.proposalSeq !== undefined) proposed.add(`${e.proposalSeq}:${e.tool ?? ''}`);
    if (e.kind === 'executed' && (e.proposalSeq === undefined || !proposed.has(`${e.proposalSeq}:${e.tool ?? ''}`))) {
      find(e.seq, 'trail.unproposed', `\`${e.tool ?? 'a call'}\` ran as proposal ${e.proposalSeq ?? '(none)'}, which the trail never proposed`);
    }
  }
  for (const seq of facts.conflicts ?? []) {
    find(seq, 'trail.conflict', `another writer recorded seq ${seq} before the session did`);
  }
  return { findings, ...(policy ? { policy } : {}) };
}

/** A parent's event that records starting `child` (not a refused or expired spawn). */
function spawned(e: AuditEventInput, child: string): boolean {
  const d = record(e.detail);
  return e.tool === 'session.spawnChild' && d.childSessionId === child && d.status !== 'denied' && d.status !== 'expired';
}

/** Compiled policies by document text and catalog: most sessions of a trail share a few (a transparent cache). */
const COMPILED = new Map<string, CompiledPolicy | null>();
const COMPILED_MAX = 64;

function compiled(doc: unknown, tools: readonly ToolInfo[]): CompiledPolicy | undefined {
  // Keyed by the document's own text, not its (key-sorted) hash: two orders of the `tools` globs
  // hash alike but compile to different tiers (the first matching glob wins).
  const key = `${sha256Hex(JSON.stringify(doc))}:${sha256Hex(canonicalJson(tools))}`;
  let hit = COMPILED.get(key);
  if (hit === undefined) {
    const parsed = parsePolicy(doc);
    hit = parsed.success ? compilePolicy(parsed.data, tools) : null;
    if (COMPILED.size >= COMPILED_MAX) COMPILED.delete(COMPILED.keys().next().value!);
    COMPILED.set(key, hit);
  }
  return hit ?? undefined;
}
