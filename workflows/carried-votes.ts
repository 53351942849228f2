/**
 * What a continued run must know of the signed decisions of the runs before it, so that it answers
 * a late, second or replayed one exactly as they would: the nonces already used (a replay is
 * `decision.replayed`) and the approvals already decided (a late vote is `approval.decided`, not
 * `approval.unknown`). Both are bounded by time, not by count where a count would open a hole:
 *
 * - a used nonce is kept until its envelope expires: after that the envelope is refused as
 *   `decision.expired`, a check that comes before the nonce's (`checkSignedDecision`), so dropping
 *   it changes no answer to a captured envelope. Never dropped by count: that would let a replay in.
 * - a decided approval is kept for `LATE_VOTE_WINDOW_MS` after its decision: a vote signed while it
 *   was pending expires within that window (issued-at at most `MAX_CLOCK_SKEW_MS` ahead, lifetime at
 *   most `MAX_DECISION_LIFETIME_MS`), so every late vote an approval surface signed is answered
 *   `approval.decided`. One signed afresh for an older approval is answered `approval.unknown`
 *   (still refused, still an alert). At most `MAX_CARRIED_DECIDED`, newest kept: each took a person
 *   or a deadline, so a session decides far fewer in a day; the cap only bounds the carried state.
 *
 * Pure and workflow-safe.
 */
import { MAX_CLOCK_SKEW_MS, MAX_DECISION_LIFETIME_MS } from '../policies/trust/decisions';

/** How long after its decision a late vote for an approval can still be a valid envelope. */
export const LATE_VOTE_WINDOW_MS = MAX_DECISION_LIFETIME_MS + MAX_CLOCK_SKEW_MS;

/** Most decided approvals carried to the next run (the newest). */
export const MAX_CARRIED_DECIDED = 256;

/** A decided approval, carried: its proposal seq (the id is `<sessionId>:<seq>`) and when it was decided (workflow ms). */
export interface DecidedApproval {
  readonly seq: number;
  readonly at: number;
}

/** Signed-decision bookkeeping as carried: nonces with their envelopes' expiry, decided approvals. */
export interface CarriedVotes {
  /** Nonces of signed decisions already used: a replay across runs is refused too. */
  readonly usedNonces: readonly string[];
  /** `usedNonces[i]`'s envelope expires at `nonceExpiries[i]` (workflow ms). Absent in runs carried before it. */
  readonly nonceExpiries?: readonly number[];
  /** Approvals decided in the late-vote window (absent: none, or carried before it). */
  readonly decidedApprovals?: readonly DecidedApproval[];
}

/** What the session keeps of signed decisions while it runs. */
export interface VoteMemory {
  /** Nonces used (what `checkSignedDecision` consults). */
  readonly usedNonces: Set<string>;
  /** Nonce → when its envelope expires (a nonce missing here is kept). */
  readonly nonceExpiries: Map<string, number>;
  /** Approval id → its decision. */
  readonly decided: Map<string, DecidedApproval>;
}

/** What to carry at `now`: unexpired nonces, approvals decided within the late-vote window (the newest `MAX_CARRIED_DECIDED`). */
export function carryVotes(m: VoteMemory, now: number): CarriedVotes {
  const nonces = [...m.usedNonces].map((n) => [n, m.nonceExpiries.get(n) ?? now + LATE_VOTE_WINDOW_MS] as const).filter(([, expires]) => expires > now);
  const decided = [...m.decided.values()].filter((d) => now - d.at < LATE_VOTE_WINDOW_MS).sort((a, b) => a.at - b.at || a.seq - b.seq);
  return {
    usedNonces: nonces.map(([n]) => n),
    nonceExpiries: nonces.map(([, e]) => e),
    ...(decided.length > 0 ? { decidedApprovals: decided.slice(-MAX_CARRIED_DECIDED) } : {}),
  };
}

/**
 * The memory a continued run starts with. A nonce carried without its expiry (runs carried before
 * it) is kept for the longest an envelope used before `now` can stay valid.
 */
export function restoreVotes(c: CarriedVotes, sessionId: string, now: number): VoteMemory {
  const nonceExpiries = new Map<string, number>();
  c.usedNonces.forEach((n, i) => nonceExpiries.set(n, c.nonceExpiries?.[i] ?? now + LATE_VOTE_WINDOW_MS));
  const decided = new Map<string, DecidedApproval>();
  for (const d of c.decidedApprovals ?? []) decided.set(`${sessionId}:${d.seq}`, { seq: d.seq, at: d.at });
  return { usedNonces: new Set(c.usedNonces), nonceExpiries, decided };
}
