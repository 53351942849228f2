/**
 * The cross-session ledger's decision, as a pure function: budgets and forbidden transitions
 * counted over every session of one agent (or one owner). The ledger workflow holds a
 * `LedgerState` and folds each reservation into it with `reserve`; a session asks it only for a
 * tool that takes part in a cross-session rule, and only once its own gate lets the call run, so a
 * reservation is a call that runs (executed or failed, as the session budget counts them) and
 * nothing is ever released.
 *
 * Nothing a request says can loosen the ledger: the time is the ledger's own, state is keyed by the
 * rule's fingerprint (a request with other rules counts in other entries), and a reservation id is
 * decided once — a repeat with another request gets `ledger.conflict`, never the first answer.
 *
 * Bounded: a budget keeps at most `max` times inside its window, a transition the time of the last
 * `from` call, the dedup table the last `MAX_RESERVATIONS` ids; expired entries are dropped.
 */
import type { CrossSessionDoc } from './document';
import { compileGlob } from './glob';
import { canonicalJson, sha256Hex } from './hash';
import type { Effect, Reason } from './types';

/** Which ledger: one per agent (the credential's agent), one per owner. */
export type LedgerScope = 'agent' | 'owner';

/**
 * A cross-session rule as a session sends it (plain JSON, windows in ms). A budget counts a call
 * whose tool `tools` names or whose effect `effects` lists (`tools` empty: by effect alone).
 */
export type LedgerRule = (
  | { readonly kind: 'budget'; readonly id: string; readonly tools: readonly string[]; readonly effects?: readonly Effect[]; readonly max: number; readonly windowMs: number; readonly reason?: string }
  | { readonly kind: 'transition'; readonly id: string; readonly from: string; readonly to: string; readonly withinMs: number; readonly reason?: string }
) & {
  /** A shadow rule counts and reports what it would deny (`LedgerResult.shadow`), and denies nothing. Absent: enforced. */
  readonly mode?: 'shadow';
};

/** One reservation: the call `tool` of proposal `proposalSeq` of session `sessionId`. */
export interface LedgerRequest {
  /** `<sessionId>:p<proposalSeq>`: also the Temporal update id, so a retry is the same update. */
  readonly reservationId: string;
  readonly sessionId: string;
  readonly tool: string;
  /**
   * The tool's effect in the session's policy, sent only when a rule selects by `effects`
   * (`effectOfRequest`): requests under rules without them are what they were before effects.
   */
  readonly effect?: Effect;
  /** The rules of the session's policy snapshot that name `tool` (or its effect), for this ledger's scope. */
  readonly rules: readonly LedgerRule[];
  /** Also lease up to this many further calls of `tool` to the session (see `LedgerLease`). */
  readonly lease?: number;
  /**
   * With `lease`: sha256 of the secret that hands the lease back (the worker's, never in a history).
   * Not part of the request's digest: a retry from another worker is the same reservation.
   */
  readonly leaseKey?: string;
  /** Leases of this session handed back first (spent and unspent calls). */
  readonly returns?: readonly LeaseReturn[];
  /**
   * The session's clock at the call (ms), part of the digest. The reservation id is guessable, so
   * without it an agent could send the very request a session of its will send later and have the
   * call counted now, when the window has room or no transition has started: the genuine request
   * would be answered from that. A first decision more than `RESERVATION_SKEW_MS` from the ledger's
   * clock is denied; a request made earlier cannot name the millisecond of the call.
   */
  readonly at?: number;
}

/** How far a reservation's `at` may be from the ledger's clock when it is first decided. */
export const RESERVATION_SKEW_MS = 10 * 60_000;

/**
 * A block of calls of one tool leased to one session, which spends them without asking again
 * until `until` (ledger time, less `LEASE_MARGIN_MS` by its own clock). Every leased call counts
 * in the budgets at once, stamped `until` (no earlier than any call spent from it), so the
 * budgets hold across sessions whatever the session does; the session hands the lease back
 * (`LeaseReturn`) with the times of the calls it spent, and the ledger keeps only those.
 */
export interface LedgerLease {
  readonly units: number;
  readonly until: number;
  /** The `leaseKey` it was granted under: a session whose own key differs does not spend it. */
  readonly key: string;
}

/**
 * A lease handed back: its id (the reservation that took it), the times of the calls spent from it,
 * and the secret whose sha256 it was granted under — without it a return changes nothing, so no
 * one but the worker that leased it (or one sharing its secret) can free a session's leased calls.
 */
export interface LeaseReturn {
  readonly leaseId: string;
  readonly used: readonly number[];
  readonly token?: string;
}

/** `returnLeases`: leases of one session handed back outside a reservation (at its end). */
export interface LeaseReturnRequest {
  /** `<sessionId>:r<n>`: also the Temporal update id. */
  readonly returnId: string;
  readonly sessionId: string;
  readonly returns: readonly LeaseReturn[];
}

/** Calls a lease may hold at most, and the share of what remains it may take (1 / headroom). */
export const LEASE_MAX = 16;
export const LEASE_HEADROOM = 64;
/** How long a lease lasts (at most a quarter of its shortest window). */
export const LEASE_MS = 60_000;
/** A session stops spending a lease this long before `until` (two workflows' clocks). */
export const LEASE_MARGIN_MS = 5_000;
/** Leases a ledger holds at once; past it, calls reserve one at a time. */
export const MAX_LEASES = 1_000;

/** The ledger's answer; `requestDigest` lets the caller check it answers its own request. */
export interface LedgerResult {
  readonly verdict: 'allow' | 'deny';
  readonly reasons: readonly Reason[];
  /** What shadow rules would have denied (only when one would have). */
  readonly shadow?: readonly Reason[];
  readonly reservationId: string;
  readonly requestDigest: string;
  /** Further calls leased to the session (only when asked for and granted). */
  readonly lease?: LedgerLease;
}

type Decided = { readonly digest: string; readonly verdict: 'allow' | 'deny'; readonly reasons: readonly Reason[]; readonly shadow?: readonly Reason[]; readonly lease?: LedgerLease };

/** An outstanding lease: whose, the budget entries it counts in, and when it was taken. */
export interface LeaseEntry {
  readonly sessionId: string;
  readonly keys: readonly string[];
  readonly units: number;
  readonly from: number;
  readonly until: number;
  /** The longest window of its budgets: past `until` + this, nothing of it is counted any more. */
  readonly windowMs: number;
  /** sha256 of the secret a return must show. */
  readonly keyHash: string;
}

export interface LedgerState {
  /** Rule fingerprint → times (epoch ms) of reserved calls inside the window, oldest first. */
  readonly budgets: Readonly<Record<string, { readonly windowMs: number; readonly times: readonly number[] }>>;
  /** Rule fingerprint → time of the last reserved `from` call. */
  readonly transitions: Readonly<Record<string, { readonly withinMs: number; readonly lastFrom: number }>>;
  /** Reservation id → its digest and answer, for retries (also across continue-as-new). */
  readonly reservations: Readonly<Record<string, Decided>>;
  /** Reservation ids, oldest first (what is dropped when the table is full). */
  readonly order: readonly string[];
  /** Outstanding leases by id (absent in ledgers that never leased). */
  readonly leases?: Readonly<Record<string, LeaseEntry>>;
}

/** Reservation ids remembered for retries. */
export const MAX_RESERVATIONS = 2_000;
/** Rule entries a ledger keeps; a request that needs more is denied (fail closed, never evicts). */
export const MAX_RULE_ENTRIES = 256;

export function emptyLedger(): LedgerState {
  return { budgets: {}, transitions: {}, reservations: {}, order: [] };
}

/** The cross-session rules of a document for one scope (ids default to what they name). */
export function ledgerRules(doc: CrossSessionDoc | undefined): readonly LedgerRule[] {
  if (!doc) return [];
  // `mode` only when shadow: an enforced rule's request (and so its fingerprint and digest) is what it was before modes.
  const shadow = (mode: string | undefined) => (mode === 'shadow' ? { mode: 'shadow' as const } : {});
  // `effects` only when given: a budget without them keeps its fingerprint, so its ledger entry counts on.
  const budgets = doc.budgets.map((b): LedgerRule => ({ kind: 'budget', id: b.id ?? budgetId(b.tools ?? [], b.effects), tools: b.tools ?? [], ...(b.effects ? { effects: b.effects } : {}), max: b.max, windowMs: Math.round(b.windowMinutes * 60_000), ...(b.reason ? { reason: b.reason } : {}), ...shadow(b.mode) }));
  const transitions = doc.transitions.map((t): LedgerRule => ({ kind: 'transition', id: t.id ?? `${t.from} -> ${t.to}`, from: t.from, to: t.to, withinMs: Math.round(t.within.minutes * 60_000), ...(t.reason ? { reason: t.reason } : {}), ...shadow(t.mode) }));
  return [...budgets, ...transitions];
}

/** A budget's default id: its tools, then its effects (`billing.*, effects: write`). */
function budgetId(tools: readonly string[], effects: readonly Effect[] | undefined): string {
  return [...tools, ...(effects ? [`effects: ${effects.join(', ')}`] : [])].join(', ');
}

/**
 * True when a call of `tool`, whose effect is `effect`, takes part in the rule (so a session must
 * reserve it): a budget counts it when one of its tools names it or its effects list the effect.
 * Without an effect (a request under rules that select none by effect) only names match.
 */
export function ruleNames(rule: LedgerRule, tool: string, effect?: Effect): boolean {
  if (rule.kind === 'budget') return rule.tools.some((t) => compileGlob(t).test(tool)) || (effect !== undefined && rule.effects?.includes(effect) === true);
  return compileGlob(rule.from).test(tool) || compileGlob(rule.to).test(tool);
}

/**
 * The `effect` field of a request for a call with effect `effect` under `rules`: present only when
 * one of them selects by effect, so every other request (and its digest) is what it was before.
 */
export function effectOfRequest(rules: readonly LedgerRule[], effect: Effect | undefined): { readonly effect?: Effect } {
  return effect !== undefined && rules.some((r) => r.kind === 'budget' && r.effects !== undefined) ? { effect } : {};
}

/** A session transition rule as far as an unlock needs it: its tools in order (a pair has two). */
export interface UnlockedTransition {
  readonly globs: readonly { readonly source: string }[];
}

/**
 * The rules a call asks once a person unlocked, out of band, the forbidden transitions `unlocked`
 * that it completes in its own session: a cross-session transition with the same `from` and `to`
 * as an unlocked pair is left out (the person decided that this call may follow that one, so an
 * agent-wide copy of the session's rule does not take the unlock back); every other rule stays.
 */
export function withoutUnlocked(rules: readonly LedgerRule[], unlocked: readonly UnlockedTransition[]): readonly LedgerRule[] {
  const pairs = new Set(unlocked.filter((t) => t.globs.length === 2).map((t) => JSON.stringify([t.globs[0]?.source, t.globs[1]?.source])));
  if (pairs.size === 0) return rules;
  return rules.filter((r) => r.kind !== 'transition' || !pairs.has(JSON.stringify([r.from, r.to])));
}

/** The digest a result echoes: sha256 of the canonical request (its `leaseKey` and returned tokens aside). */
export function requestDigest(req: LedgerRequest): string {
  const { leaseKey: _key, returns, ...rest } = req;
  return sha256Hex(canonicalJson(returns ? { ...rest, returns: returns.map(({ token: _token, ...r }) => r) } : rest));
}

/** A rule's state key: its canonical form (a request with other rules counts elsewhere). */
function fingerprint(rule: LedgerRule): string {
  const { reason: _reason, ...counted } = rule;
  return sha256Hex(canonicalJson(counted));
}

const minutes = (ms: number) => `${Math.round((ms / 60_000) * 100) / 100} minutes`;

/**
 * Decides one reservation at `now` (the ledger's clock). Combining: any rule that denies → deny
 * (nothing recorded but the answer); else allow, and the call counts in every budget that names
 * it and starts every transition whose `from` it matches.
 */
export function reserve(state: LedgerState, req: LedgerRequest, scope: LedgerScope, now: number): { readonly state: LedgerState; readonly result: LedgerResult } {
  const digest = requestDigest(req);
  const seen = state.reservations[req.reservationId];
  if (seen) {
    // A retry of the same request gets the same answer; another request under the id is refused.
    if (seen.digest === digest) return { state, result: { verdict: seen.verdict, reasons: seen.reasons, ...(seen.shadow ? { shadow: seen.shadow } : {}), reservationId: req.reservationId, requestDigest: digest, ...(seen.lease ? { lease: seen.lease } : {}) } };
    const reasons: Reason[] = [{ rule: 'ledger.conflict', message: `reservation \`${req.reservationId}\` was already decided for another request` }];
    return { state, result: { verdict: 'deny', reasons, reservationId: req.reservationId, requestDigest: digest } };
  }
  const pruned = pruneLedger(req.returns ? returnLeases(state, req.sessionId, req.returns) : state, now);
  const budgets = { ...pruned.budgets };
  const transitions = { ...pruned.transitions };
  const reasons: Reason[] = [];
  const shadowed: Reason[] = [];
  const whose = scope === 'agent' ? "this agent's sessions" : "this owner's agents";
  const matching = req.rules.filter((r) => ruleNames(r, req.tool, req.effect));
  const keys = matching.map(fingerprint);
  const fresh = keys.filter((k) => budgets[k] === undefined && transitions[k] === undefined).length;
  if (Object.keys(budgets).length + Object.keys(transitions).length + fresh > MAX_RULE_ENTRIES) {
    reasons.push({ rule: 'ledger.full', message: `the ${scope} ledger holds ${MAX_RULE_ENTRIES} rule entries: no room for new rules` });
  }
  if (req.at !== undefined && Math.abs(now - req.at) > RESERVATION_SKEW_MS) {
    reasons.push({ rule: 'ledger.stale', message: `reservation \`${req.reservationId}\` is for a call ${minutes(Math.abs(now - req.at))} from the ledger's clock: a call is counted at its own time (within ${minutes(RESERVATION_SKEW_MS)})` });
  }
  matching.forEach((rule, i) => {
    const key = keys[i] ?? '';
    const why = rule.reason ? `: ${rule.reason}` : '';
    const found = rule.mode === 'shadow' ? shadowed : reasons;
    if (rule.kind === 'budget') {
      const used = budgets[key]?.times.length ?? 0;
      if (used >= rule.max) found.push({ rule: `${scope}.budget`, message: `\`${rule.id}\` ran ${used} times in the last ${minutes(rule.windowMs)} across ${whose}: the limit is ${rule.max}${why}` });
    } else if (compileGlob(rule.to).test(req.tool)) {
      const last = transitions[key]?.lastFrom;
      if (last !== undefined && now - last <= rule.withinMs) {
        found.push({ rule: `${scope}.sequence`, message: `\`${rule.from}\` then \`${rule.to}\` within ${minutes(rule.withinMs)} across ${whose} is a forbidden transition${why}` });
      }
    }
  });
  const verdict = reasons.length > 0 ? 'deny' : 'allow';
  // Reported only beside a call that runs: a denied call counts nowhere, shadow rules included.
  const shadow = verdict === 'allow' && shadowed.length > 0 ? { shadow: shadowed } : {};
  if (verdict === 'allow') {
    matching.forEach((rule, i) => {
      const key = keys[i] ?? '';
      // The last `max` times are all a window needs to say "at the limit" (a shadow budget's calls go past it).
      if (rule.kind === 'budget') budgets[key] = { windowMs: rule.windowMs, times: rule.max === 0 ? [] : [...(budgets[key]?.times ?? []), now].slice(-rule.max) };
      else if (compileGlob(rule.from).test(req.tool)) transitions[key] = { withinMs: rule.withinMs, lastFrom: now };
    });
  }
  let leases = pruned.leases;
  const granted = verdict === 'allow' && req.lease !== undefined && req.leaseKey !== undefined ? leaseFor(matching, keys, budgets, leases, req.lease, req.leaseKey, now) : undefined;
  if (granted) {
    for (const key of keys) {
      const b = budgets[key]!;
      budgets[key] = { windowMs: b.windowMs, times: [...b.times, ...Array<number>(granted.units).fill(granted.until)] };
    }
    const windowMs = Math.max(...matching.map((r) => (r.kind === 'budget' ? r.windowMs : 0)));
    leases = { ...leases, [req.reservationId]: { sessionId: req.sessionId, keys, units: granted.units, from: now, until: granted.until, windowMs, keyHash: granted.key } };
  }
  const lease = granted ? { lease: granted } : {};
  const order = [...pruned.order, req.reservationId];
  const reservations = { ...pruned.reservations, [req.reservationId]: { digest, verdict, reasons, ...shadow, ...lease } } as Record<string, Decided>;
  while (order.length > MAX_RESERVATIONS) {
    const old = order.shift();
    if (old !== undefined) delete reservations[old];
  }
  return { state: { budgets, transitions, reservations, order, ...(leases ? { leases } : {}) }, result: { verdict, reasons, ...shadow, reservationId: req.reservationId, requestDigest: digest, ...lease } };
}

/**
 * The lease an allowed reservation may take with it: only when every rule it counts in is an
 * enforced budget, at most `want`, `LEASE_MAX` and 1/`LEASE_HEADROOM` of what the tightest of them
 * has left, and at least 2 (none near a limit: there calls reserve one at a time, as without leases).
 */
function leaseFor(matching: readonly LedgerRule[], keys: readonly string[], budgets: LedgerState['budgets'], leases: LedgerState['leases'], want: number, key: string, now: number): LedgerLease | undefined {
  if (matching.length === 0 || matching.some((r) => r.kind !== 'budget' || r.mode === 'shadow')) return undefined;
  if (Object.keys(leases ?? {}).length >= MAX_LEASES) return undefined;
  let left = Infinity;
  let shortest = Infinity;
  matching.forEach((r, i) => {
    if (r.kind !== 'budget') return;
    left = Math.min(left, r.max - (budgets[keys[i] ?? '']?.times.length ?? 0));
    shortest = Math.min(shortest, r.windowMs);
  });
  const units = Math.min(want, LEASE_MAX, Math.floor(left / LEASE_HEADROOM));
  // A lease of one call saves nothing worth holding a call for.
  return units >= 2 ? { units, until: now + Math.min(LEASE_MS, Math.floor(shortest / 4)), key } : undefined;
}

/**
 * Hands leases of `sessionId` back: each budget entry keeps, of the lease's calls stamped `until`,
 * only the ones spent, at the times they were spent (within the lease's span). A lease unknown
 * here (returned already, never taken, another session's) or without its secret changes nothing:
 * a return counts once, and only the worker's.
 */
export function returnLeases(state: LedgerState, sessionId: string, returns: readonly LeaseReturn[]): LedgerState {
  if (!state.leases) return state;
  const leases = { ...state.leases };
  const budgets = { ...state.budgets };
  for (const r of returns) {
    const lease = leases[r.leaseId];
    // Only the holder of the lease's secret frees it: a return guessed from ids changes nothing.
    if (!lease || lease.sessionId !== sessionId || r.token === undefined || sha256Hex(r.token) !== lease.keyHash) continue;
    delete leases[r.leaseId];
    const spent = r.used.slice(0, lease.units).map((t) => Math.min(lease.until, Math.max(lease.from, t)));
    for (const key of lease.keys) {
      const b = budgets[key];
      if (!b) continue;
      let drop = lease.units;
      const kept = b.times.filter((t) => !(t === lease.until && drop-- > 0));
      budgets[key] = { windowMs: b.windowMs, times: [...kept, ...spent].sort((x, y) => x - y) };
    }
  }
  return { ...state, budgets, leases };
}

/** Drops what no window can see any more (budgets' old times, expired transitions, empty entries). */
export function pruneLedger(state: LedgerState, now: number): LedgerState {
  const budgets: Record<string, LedgerState['budgets'][string]> = {};
  for (const [key, b] of Object.entries(state.budgets)) {
    const times = b.times.filter((t) => now - t < b.windowMs);
    if (times.length > 0) budgets[key] = times.length === b.times.length ? b : { windowMs: b.windowMs, times };
  }
  const transitions: Record<string, LedgerState['transitions'][string]> = {};
  for (const [key, t] of Object.entries(state.transitions)) if (now - t.lastFrom <= t.withinMs) transitions[key] = t;
  if (!state.leases) return { ...state, budgets, transitions };
  // A lease never handed back (its session was terminated) is forgotten once nothing of it counts.
  const leases: Record<string, LeaseEntry> = {};
  for (const [id, l] of Object.entries(state.leases)) if (now - l.until < l.windowMs) leases[id] = l;
  return { ...state, budgets, transitions, leases };
}

/**
 * Checks that a ledger's answer is the answer to `req`: Temporal returns the first outcome of an
 * update id, so whoever sent another request under the same id first would otherwise decide this
 * one. A mismatch is a `ledger.conflict` denial (fail closed).
 */
export function answerFor(req: LedgerRequest, result: LedgerResult): LedgerResult {
  const digest = requestDigest(req);
  if (result && result.requestDigest === digest && result.reservationId === req.reservationId && (result.verdict === 'allow' || result.verdict === 'deny')) return result;
  return { verdict: 'deny', reasons: [{ rule: 'ledger.conflict', message: `the ledger's answer for \`${req.reservationId}\` is not for this request` }], reservationId: req.reservationId, requestDigest: digest };
}

/** One line per rule, for `gatehouse policy check`. */
export function describeLedgerRule(rule: LedgerRule): string {
  const mode = rule.mode === 'shadow' ? ' (shadow: reported, not enforced)' : '';
  if (rule.kind === 'budget') {
    const byName = rule.tools.length > 0 ? `calls of ${rule.tools.map((t) => `\`${t}\``).join(', ')}` : '';
    const byEffect = rule.effects ? `${rule.effects.map((e) => `\`${e}\``).join(' or ')} calls` : '';
    return `budget \`${rule.id}\`: at most ${rule.max} ${[byName, byEffect].filter(Boolean).join(' and ')} per ${minutes(rule.windowMs)}${mode}`;
  }
  return `transition \`${rule.id}\`: \`${rule.to}\` denied within ${minutes(rule.withinMs)} of \`${rule.from}\`${mode}`;
}
