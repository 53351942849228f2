/**
 * Session state: plain JSON data, small and bounded, that lives in workflow state and survives
 * continue-as-new. `advance` folds one proposal's outcome into it; nothing here reads a clock.
 *
 * Bounded by construction:
 * - `window` keeps performed actions inside the budget window; the budget caps their number.
 * - `rate` keeps at most the largest rate-limit `max` timestamps per tool and per session, inside
 *   the longest rate window.
 * - `transitions` keeps, per transition rule, one entry per prefix of its sequence: the latest
 *   start of a matched prefix (a subsequence automaton), never the raw history.
 * - `reads` (with `resourceWrites`) keeps, per resource family of the catalog, the times of at most
 *   `afterReads` performed reads, inside the rule's window.
 */
import type { CompiledPolicy, TransitionRole } from './compile';
import { declaredEffectOf, keptReads, readsAfter, type ResourceReads } from './state-reads';
import type { BudgetOverride, Effect, Mandate, OutcomeStatus, Proposal, SessionMode } from './types';

/** Where a matched prefix of a transition sequence started. */
export interface PrefixStart {
  readonly step: number;
  readonly at: number;
}

/** Progress of each transition rule, by rule id: index k = latest start of a matched prefix of length k + 1. */
export type TransitionProgress = Readonly<Record<string, readonly (PrefixStart | null)[]>>;

/** What a sub-agent inherits from its parent so it cannot finish a sequence the parent began. */
export interface InheritedTransitions {
  readonly step: number;
  readonly progress: TransitionProgress;
  /** With `resourceWrites`: the parent's reads, so a write after them waits for a person in the child too. */
  readonly reads?: ResourceReads;
  /** With `intent.writesNeedWriteIntent`: the parent's declared effect, which bounds the child's. */
  readonly declaredEffect?: Effect | null;
}

/**
 * One split of a session's rate limits at a spawn (patch `rates-shared-in-tree`): the child took
 * `share` of each limit (rounded down), and its parent kept the rest. A session's limits are the
 * policy's, split in turn by each of its splits: a session tree never has more than the policy's.
 */
export interface RateSplit {
  readonly share: number;
  /** True in the child (it took the share), false in the parent (it kept the rest). */
  readonly took: boolean;
}

/** What a sub-agent takes of its parent's rate limits: its splits and its parent's rate windows. */
export interface InheritedRates {
  readonly splits: readonly RateSplit[];
  readonly windows: SessionState['rate'];
}

/** One performed action inside the budget window. */
export interface WindowEntry {
  readonly at: number;
  readonly write: boolean;
  readonly critical: boolean;
}

export interface SessionState {
  readonly version: 1;
  readonly startedAt: number;
  readonly policyHash: string;
  readonly mode: SessionMode;
  /** Modes are flags that only ever turn on; `mode` is the furthest one. */
  readonly readOnly: boolean;
  readonly review: boolean;
  readonly closed: boolean;
  /** Why the session was flagged for review (rule ids), in the order they fired. */
  readonly flagged: readonly string[];
  /** This session's caps: the policy's, lowered by any override. */
  readonly limits: { readonly actions: number; readonly writes: number; readonly critical: number; readonly tokens: number };
  /** Performed actions (executed or failed) so far: the step counter of transition rules. */
  readonly step: number;
  readonly counters: { readonly proposals: number; readonly executed: number; readonly denied: number; readonly failed: number; readonly expired: number; readonly tokens: number };
  readonly window: readonly WindowEntry[];
  readonly rate: { readonly session: readonly number[]; readonly tools: Readonly<Record<string, readonly number[]>> };
  /** How this session's rate limits were split with its parent and children (absent: the policy's whole). */
  readonly rateSplits?: readonly RateSplit[];
  readonly transitions: TransitionProgress;
  /** Running intent-alignment score, older scores decayed; `null` before the first score. */
  readonly intent: { readonly score: number | null; readonly weight: number; readonly decay: number; readonly reviewBelow: number; readonly enforce: boolean };
  readonly mandate?: { readonly tools: readonly string[]; readonly resources: readonly string[] };
  /** With `resourceWrites` only: the session's (and, inherited, its parent's) reads per resource. */
  readonly reads?: ResourceReads;
  /**
   * With `intent.writesNeedWriteIntent` only: the effect the declared intent implies (`intentEffect`,
   * taken once at the start; `null` when no verb in it says), never stronger than a parent's.
   */
  readonly declaredEffect?: Effect | null;
}

export interface SessionInit {
  /** Epoch ms. */
  readonly startedAt: number;
  /** The session's declared intent: what `intent.writesNeedWriteIntent` reads the declared effect from. */
  readonly intent?: string;
  readonly budget?: BudgetOverride;
  readonly mandate?: Mandate;
  readonly inheritedTransitions?: InheritedTransitions;
  readonly inheritedRates?: InheritedRates;
}

/** A rate limit's `max` for a session with `splits`: each split takes its share rounded down, or keeps the rest. */
export function rateMax(max: number, splits: readonly RateSplit[] | undefined): number {
  let m = max;
  for (const s of splits ?? []) {
    const taken = Math.floor(m * Math.min(1, Math.max(0, s.share)));
    m = s.took ? taken : m - taken;
  }
  return m;
}

/** The state of a fresh session under `policy`. */
export function initialSessionState(policy: CompiledPolicy, init: SessionInit): SessionState {
  const b = policy.budget;
  const o = init.budget ?? {};
  const lower = (cap: number, override: unknown) => (typeof override === 'number' && Number.isFinite(override) && override >= 0 ? Math.min(cap, Math.floor(override)) : cap);
  const inherited = init.inheritedTransitions;
  const transitions: Record<string, (PrefixStart | null)[]> = {};
  for (const t of policy.transitions) {
    const carried = inherited?.progress[t.id];
    transitions[t.id] = Array.from({ length: t.globs.length - 1 }, (_, i) => carried?.[i] ?? null);
  }
  const mandate = init.mandate && (init.mandate.tools?.length || init.mandate.resources?.length) ? { tools: [...(init.mandate.tools ?? [])], resources: [...(init.mandate.resources ?? [])] } : undefined;
  return {
    version: 1,
    startedAt: init.startedAt,
    policyHash: policy.hash,
    mode: 'normal',
    readOnly: false,
    review: false,
    closed: false,
    flagged: [],
    limits: { actions: lower(b.actions, o.actions), writes: lower(b.writes, o.writes), critical: lower(b.critical, o.critical), tokens: lower(b.tokens, o.tokens) },
    step: inherited?.step ?? 0,
    counters: { proposals: 0, executed: 0, denied: 0, failed: 0, expired: 0, tokens: 0 },
    window: [],
    rate: init.inheritedRates ? { session: [...init.inheritedRates.windows.session], tools: { ...init.inheritedRates.windows.tools } } : { session: [], tools: {} },
    ...(init.inheritedRates ? { rateSplits: [...init.inheritedRates.splits] } : {}),
    transitions,
    intent: { score: null, weight: 0, decay: policy.intent.decay, reviewBelow: policy.intent.reviewBelow, enforce: !policy.intent.shadow },
    ...(mandate ? { mandate } : {}),
    ...(policy.resourceWrites ? { reads: keptReads(policy, inherited?.reads, init.startedAt) } : {}),
    ...(policy.intent.writesNeedWriteIntent && typeof init.intent === 'string' ? { declaredEffect: declaredEffectOf(init.intent, inherited) } : {}),
  };
}

/**
 * The state after an operator's signed budget raise: each named cap becomes the larger of the two
 * (a raise never lowers a cap). Modes do not move back: a session already read-only stays so.
 */
export function withBudgetRaised(state: SessionState, raise: { readonly actions?: number; readonly writes?: number; readonly critical?: number; readonly tokens?: number }): SessionState {
  const l = state.limits;
  const up = (cap: number, to: number | undefined) => (to === undefined ? cap : Math.max(cap, to));
  return { ...state, limits: { actions: up(l.actions, raise.actions), writes: up(l.writes, raise.writes), critical: up(l.critical, raise.critical), tokens: up(l.tokens, raise.tokens) } };
}

/** The furthest mode the session reached: normal → read-only → review → closed. */
export function sessionMode(state: SessionState): SessionMode {
  if (state.closed) return 'closed';
  if (state.review) return 'review';
  if (state.readOnly) return 'read-only';
  return 'normal';
}

/** Budget used in the window ending at `now`. */
export function budgetUsed(policy: CompiledPolicy, state: SessionState, now: number): { actions: number; writes: number; critical: number; tokens: number } {
  const from = now - policy.budget.windowMs;
  let actions = 0;
  let writes = 0;
  let critical = 0;
  for (const e of state.window) {
    if (e.at <= from) continue;
    actions++;
    if (e.write) writes++;
    if (e.critical) critical++;
  }
  return { actions, writes, critical, tokens: state.counters.tokens };
}

/** What is left of each budget in the window ending at `now` (tokens: of the session's cost cap). */
export function budgetLeft(policy: CompiledPolicy, state: SessionState, now: number): { actions: number; writes: number; critical: number; tokens: number } {
  const used = budgetUsed(policy, state, now);
  const l = state.limits;
  return {
    actions: Math.max(0, l.actions - used.actions),
    writes: Math.max(0, l.writes - used.writes),
    critical: Math.max(0, l.critical - used.critical),
    tokens: Math.max(0, l.tokens - used.tokens),
  };
}

/** The budget a sub-agent may take: the policy's share (default a quarter) of what the parent has left. */
export function childBudget(policy: CompiledPolicy, parentState: SessionState, now: number): Required<BudgetOverride> {
  const left = budgetLeft(policy, parentState, now);
  const share = policy.document.subAgents.budgetShare;
  return {
    actions: Math.floor(left.actions * share),
    writes: Math.floor(left.writes * share),
    critical: Math.floor(left.critical * share),
    tokens: Math.floor(left.tokens * share),
  };
}

/**
 * What a sub-agent inherits (all of it), or undefined when the policy says not to: the transition
 * progress, and with the rules that keep them, the parent's reads per resource (reads then a write
 * is a sequence too: the parent may not hand the write to a child) and its declared effect.
 */
export function inheritedTransitions(policy: CompiledPolicy, parentState: SessionState): InheritedTransitions | undefined {
  if (!policy.document.subAgents.inheritTransitions) return undefined;
  return {
    step: parentState.step,
    progress: parentState.transitions,
    ...(policy.resourceWrites && parentState.reads !== undefined ? { reads: parentState.reads } : {}),
    ...(policy.intent.writesNeedWriteIntent && parentState.declaredEffect !== undefined ? { declaredEffect: parentState.declaredEffect } : {}),
  };
}

/**
 * How `withIntentScore` folds a score: `mean` (recorded histories before the drift rule) keeps
 * the decayed mean; `lowest` keeps the lower of that mean and the new score, so one deviating
 * call (the scorer's session score is already the lowest of its recent calls) is not averaged away.
 */
export type IntentFold = 'mean' | 'lowest';

/**
 * Folds a new intent-alignment score (0..1) into the running score: older scores weigh `decay`
 * times less at each new one; under the `lowest` fold (the default) a new score below that mean
 * is the running score. Below the policy's review threshold the session enters `review`.
 * A score that is not a number is ignored.
 */
export function withIntentScore(state: SessionState, score: number, fold: IntentFold = 'lowest'): SessionState {
  if (typeof score !== 'number' || !Number.isFinite(score)) return state;
  const s = Math.min(1, Math.max(0, score));
  const { decay, weight } = state.intent;
  const prior = state.intent.score ?? 0;
  const nextWeight = decay * weight + 1;
  const mean = (decay * weight * prior + s) / nextWeight;
  const next = fold === 'lowest' ? Math.min(mean, s) : mean;
  const review = state.review || (state.intent.enforce && next < state.intent.reviewBelow);
  const flagged = review && !state.review ? [...state.flagged, 'intent.review'] : state.flagged;
  return withMode({ ...state, intent: { ...state.intent, score: next, weight: nextWeight }, review, flagged });
}

/**
 * Folds one proposal and how it ended into the state: counters, token spend, rate windows,
 * the budget window and transition progress (for performed calls: `executed` or `failed`), then
 * moves the mode forward (read-only at `readOnlyAt` of any budget, closed at 100%).
 * Never throws: a malformed proposal only counts.
 */
export function advance(policy: CompiledPolicy, state: SessionState, proposal: Proposal, outcome: OutcomeStatus, now: number): SessionState {
  const p = (typeof proposal === 'object' && proposal !== null ? proposal : {}) as Partial<Proposal>;
  const toolName = typeof p.tool === 'string' ? p.tool : undefined;
  const tool = toolName !== undefined ? policy.tools.get(toolName) : undefined;
  const tokenCost = typeof p.tokenCost === 'number' && Number.isFinite(p.tokenCost) && p.tokenCost > 0 ? p.tokenCost : 0;
  const performed = (outcome === 'executed' || outcome === 'failed') && tool !== undefined;

  const c = state.counters;
  const counters = {
    proposals: c.proposals + 1,
    executed: c.executed + (outcome === 'executed' ? 1 : 0),
    denied: c.denied + (outcome === 'denied' ? 1 : 0),
    failed: c.failed + (outcome === 'failed' ? 1 : 0),
    expired: c.expired + (outcome === 'expired' ? 1 : 0),
    tokens: c.tokens + tokenCost,
  };

  // Rate windows count every proposal, denied ones too, so a spamming agent stays throttled.
  const keep = policy.rateKeep;
  const rateFrom = now - keep.windowMs;
  const session = keep.session > 0 ? trimTimes([...state.rate.session, now], keep.session, rateFrom) : state.rate.session;
  let tools = state.rate.tools;
  if (tool !== undefined) {
    const next: Record<string, readonly number[]> = {};
    for (const [name, times] of Object.entries(tools)) {
      const kept = name === tool.info.name ? times : trimTimes(times, keep.tool, rateFrom);
      if (kept.length > 0) next[name] = kept;
    }
    next[tool.info.name] = trimTimes([...(tools[tool.info.name] ?? []), now], keep.tool, rateFrom);
    tools = next;
  }

  // The budget window keeps performed actions only: denied and expired calls changed nothing.
  const from = now - policy.budget.windowMs;
  const window = state.window.filter((e) => e.at > from);
  let step = state.step;
  let transitions = state.transitions;
  if (performed && tool !== undefined) {
    // Critical is a static property of the tool (see compile.ts), so evaluate can check it ahead.
    window.push({ at: now, write: tool.write, critical: tool.critical });
    step += 1;
    transitions = advanceTransitions(policy, state.transitions, tool.transitions, step, now);
  }

  // Bounded even if a caller runs calls the engine denied: the cap closes the session anyway.
  const windowKept = window.length > state.limits.actions + 1 ? window.slice(window.length - state.limits.actions - 1) : window;
  let next: SessionState = { ...state, counters, rate: { session, tools }, window: windowKept, step, transitions };
  if (policy.resourceWrites) next = { ...next, reads: readsAfter(policy, state.reads, performed ? tool?.info : undefined, now) };
  next = applyBudgets(policy, next, now);
  return withMode(next);
}

/** Moves read-only / closed forward from budget usage; flags the session when it closes. */
function applyBudgets(policy: CompiledPolicy, state: SessionState, now: number): SessionState {
  const used = budgetUsed(policy, state, now);
  const l = state.limits;
  const ratio = (u: number, cap: number) => (cap > 0 ? u / cap : 0);
  const budgetRatios: [string, number][] = policy.budget.shadow
    ? []
    : [
        ['budget.actions', ratio(used.actions, l.actions)],
        ['budget.writes', ratio(used.writes, l.writes)],
        ['budget.critical', ratio(used.critical, l.critical)],
      ];
  if (!policy.costShadow) budgetRatios.push(['cost.cap', l.tokens > 0 ? used.tokens / l.tokens : used.tokens > 0 ? 1 : 0]);
  let { readOnly, closed } = state;
  let flagged = state.flagged;
  for (const [rule, r] of budgetRatios) {
    if (r >= policy.budget.readOnlyAt) readOnly = true;
    if (r >= 1 && !closed) {
      closed = true;
      flagged = [...flagged, rule];
    }
  }
  if (readOnly === state.readOnly && closed === state.closed) return state;
  return { ...state, readOnly, closed, flagged };
}

function withMode(state: SessionState): SessionState {
  const mode = sessionMode(state);
  return mode === state.mode ? state : { ...state, mode };
}

/** Keeps the last `max` times that are inside the window. */
function trimTimes(times: readonly number[], max: number, from: number): readonly number[] {
  let start = Math.max(0, times.length - max);
  while (start < times.length && (times[start] ?? 0) <= from) start++;
  return start === 0 ? times : times.slice(start);
}

/**
 * Subsequence automaton step: for each rule the tool takes part in, a prefix of length k extends
 * to k + 1 when the tool matches position k (longest prefixes first, so one call is used once),
 * keeping the latest start; a call matching position 0 starts a fresh prefix.
 */
export function advanceTransitions(policy: CompiledPolicy, progress: TransitionProgress, roles: readonly TransitionRole[], step: number, at: number): TransitionProgress {
  if (roles.length === 0) return progress;
  const next: Record<string, readonly (PrefixStart | null)[]> = { ...progress };
  for (const role of roles) {
    const rule = policy.transitions[role.rule];
    if (!rule) continue;
    const prefixes = [...(progress[rule.id] ?? Array.from({ length: rule.globs.length - 1 }, () => null))];
    for (let i = role.positions.length - 1; i >= 0; i--) {
      const pos = role.positions[i] ?? 0;
      if (pos === 0) prefixes[0] = { step, at };
      else if (pos < rule.globs.length - 1) {
        const prev = prefixes[pos - 1];
        const cur = prefixes[pos];
        if (prev && (!cur || prev.step > cur.step)) prefixes[pos] = prev;
      }
    }
    next[rule.id] = prefixes;
  }
  return next;
}
