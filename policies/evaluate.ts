/**
 * The evaluator: one proposal in, one Decision out. Pure and total: it never throws, whatever
 * JSON it is given; malformed input is a `deny` with a reason.
 *
 * Every rule adds findings (deny / approve / note), enforced or shadow; they are all collected,
 * then combined (see `combine`). Reasons name the rule id and say, in an approver's words, why.
 */
import { compileGlob, matchesAny, type Glob } from './glob';
import type { CompiledPolicy, CompiledTool, CompiledTransition, TransitionRole } from './compile';
import { budgetUsed, rateMax, type SessionState } from './state';
import { readAndIntentFindings } from './evaluate-reads-intent';
import type { ApprovalRequirement, Decision, Proposal, ProposalFacts, Reason, Verdict } from './types';
import type { RuleId } from './rules';
import { subjectRefusal } from './upstream-subjects';
import { patternTextProblem } from './unsafe-text';

type Kind = 'deny' | 'approve' | 'note';

interface Finding {
  readonly kind: Kind;
  readonly rule: RuleId;
  readonly message: string;
  /** A deny that an out-of-band approval may lift (forbidden transitions only). */
  readonly unlockable?: boolean;
  /** A note worth keeping beside a deny or approval (the tier's own note is not). */
  readonly always?: boolean;
}

/** Decides one proposal. `now` is epoch ms (workflow time). Never throws. */
export function evaluate(policy: CompiledPolicy, state: SessionState, proposal: Proposal, facts: ProposalFacts | undefined, now: number): Decision {
  try {
    return decide(policy, state, proposal, facts, now);
  } catch (err) {
    // Last line of defence (e.g. a state that is not a session state): refuse, never throw.
    const detail = err instanceof Error ? err.message : String(err);
    return { verdict: 'deny', tier: 'blocked', reasons: [{ rule: 'engine.error', message: `the policy engine could not evaluate the proposal: ${detail}` }], policyHash: safeHash(policy) };
  }
}

/** The approval a human gives out of band to unlock a forbidden transition for this proposal's tool. */
export function unlockRequirement(policy: CompiledPolicy, proposal: Proposal): ApprovalRequirement | undefined {
  const name = typeof proposal === 'object' && proposal !== null && typeof proposal.tool === 'string' ? proposal.tool : undefined;
  return name === undefined ? undefined : policy.tools.get(name)?.unlock;
}

function decide(policy: CompiledPolicy, state: SessionState, proposal: Proposal, rawFacts: ProposalFacts | undefined, now: number): Decision {
  const hash = policy.hash;
  const malformed = proposalProblem(proposal) ?? factsProblem(rawFacts) ?? (typeof now !== 'number' || !Number.isFinite(now) ? '`now` must be a finite number of epoch milliseconds' : undefined);
  if (malformed !== undefined) {
    return { verdict: 'deny', tier: 'blocked', reasons: [{ rule: 'proposal.malformed', message: `proposal is malformed: ${malformed}` }], policyHash: hash };
  }
  const facts: ProposalFacts = rawFacts ?? {};
  const enforced: Finding[] = [];
  const shadow: Finding[] = [];
  const add = (f: Finding, isShadow: boolean) => (isShadow ? shadow : enforced).push(f);

  // Floor rules: a closed session, the always-blocked list and unknown tools hold in every mode.
  if (state.closed) {
    const why = state.flagged.length > 0 ? ` after \`${state.flagged[state.flagged.length - 1]}\`` : '';
    enforced.push({ kind: 'deny', rule: 'session.closed', message: `the session is closed${why} and flagged for review; nothing more runs` });
  }
  if (policy.document.mode === 'shadow') enforced.push({ kind: 'note', always: true, rule: 'policy.shadow', message: `policy \`${policy.document.name}\` runs in shadow mode: its rules are recorded, not enforced` });
  const name = proposal.tool;
  const tool = policy.tools.get(name);
  if (tool) {
    for (const b of tool.alwaysBlocked) add({ kind: 'deny', rule: b.rule, message: b.message }, b.shadow);
  } else {
    for (const b of policy.blockedGlobs) if (b.glob.test(name)) add({ kind: 'deny', rule: b.rule, message: b.message.replace(`\`${b.glob.source}\``, `\`${name}\` (matches \`${b.glob.source}\`)`) }, b.shadow);
    enforced.push({ kind: 'deny', rule: 'tool.unknown', message: `tool \`${name}\` is not in the catalog; unknown tools are denied` });
    return finish(policy, undefined, enforced, shadow);
  }

  tierFindings(tool, add);
  argFindings(tool, proposal.args, add);
  // A server's resource, prompt or completion tool: the URI or name this call names must be classified (every mode, like an unknown tool).
  const subject = tool.upstream?.subject;
  const refused = subject ? subjectRefusal(subject.kind, subject.server, subject, proposal.args) : undefined;
  if (refused) enforced.push({ kind: 'deny', rule: refused.rule, message: refused.message });
  blastFindings(tool, facts.blastRadius, add);

  // Read-only mode: writes and destructive calls are refused, reads still run.
  if (state.readOnly && tool.write) {
    enforced.push({ kind: 'deny', rule: 'session.read-only', message: `the session is read-only (a budget passed ${Math.round(policy.budget.readOnlyAt * 100)}%): ${tool.info.effect} tool \`${name}\` is refused` });
  }

  budgetFindings(policy, state, tool, proposal.tokenCost ?? 0, now, add);
  rateFindings(policy, state, tool, now, add);
  transitionFindings(policy, state, tool, facts.transitionUnlocked === true, now, add);

  // Intent review: below the threshold every write waits for a human.
  if (tool.write) {
    if (state.review) enforced.push({ kind: 'approve', rule: 'intent.review', message: `the session's intent-alignment score fell below ${state.intent.reviewBelow}: every write needs approval` });
    else if (policy.intent.shadow && state.intent.score !== null && state.intent.score < policy.intent.reviewBelow) {
      shadow.push({ kind: 'approve', rule: 'intent.review', message: `the session's intent-alignment score ${round(state.intent.score)} is below ${policy.intent.reviewBelow}: writes would need approval` });
    }
  }

  for (const { finding, shadow } of readAndIntentFindings(policy, state, tool, now)) add(finding, shadow);

  // Mandate: a call outside what the session declared it would touch waits for a human.
  const mandate = state.mandate;
  if (mandate && policy.mandate.effects.includes(tool.info.effect) && !inMandate(mandate, tool)) {
    add({ kind: 'approve', rule: 'mandate.outside', message: `\`${name}\` (resource \`${tool.info.resource}\`) is outside the session's declared mandate` }, policy.mandate.shadow);
  }

  return finish(policy, tool, enforced, shadow);
}

function tierFindings(tool: CompiledTool, add: (f: Finding, shadow: boolean) => void): void {
  const kind: Kind = tool.tier === 'blocked' && tool.alwaysBlocked.some((b) => !b.shadow) ? 'note' : tierKind(tool.tier);
  if (kind !== 'note' || tool.tier === 'autonomous') add({ kind, rule: tool.tierRule, message: tool.tierMessage }, tool.tierShadow);
  if (tool.shadowTier) add({ kind: tierKind(tool.shadowTier.tier), rule: tool.shadowTier.rule, message: tool.shadowTier.message }, true);
}

function tierKind(tier: CompiledTool['tier']): Kind {
  return tier === 'blocked' ? 'deny' : tier === 'approval' ? 'approve' : 'note';
}

/**
 * Whether an estimate call — the estimator tool with the agent's arguments mapped in — keeps its
 * own tool's rules: a tool the policy knows, not always blocked, every enforced argument bound
 * held. It runs outside the gate, so one that does not is not made (the blast radius stays unknown).
 */
export function estimateWithinRules(policy: CompiledPolicy, estimate: { readonly tool: string; readonly args: Readonly<Record<string, unknown>> }): boolean {
  const tool = policy.tools.get(estimate.tool);
  if (!tool || tool.alwaysBlocked.some((b) => !b.shadow)) return false;
  let held = true;
  argFindings(tool, estimate.args, (f, shadow) => {
    if (!shadow && f.kind === 'deny') held = false;
  });
  return held;
}

type ArgBound = CompiledTool['args'][number];

function argFindings(tool: CompiledTool, args: Readonly<Record<string, unknown>>, add: (f: Finding, shadow: boolean) => void): void {
  for (const a of tool.args) {
    const problem = a.asRun ? argProblemAsRun(a, args) : argProblem(a, proposedValue(a, args));
    if (problem) add({ kind: 'deny', rule: 'args.bounds', message: `argument \`${a.path}\` of \`${tool.info.name}\` ${problem}` }, a.shadow);
  }
}

/** The value at a bound's path as sessions recorded before `asRun` looked it up: anything but an object on the way is "missing". */
function proposedValue(a: ArgBound, args: Readonly<Record<string, unknown>>): unknown {
  let value: unknown = args;
  for (const seg of a.segments) {
    value = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[seg] : undefined;
    if (value === undefined) break;
  }
  return value;
}

/**
 * A bound judged on what the tool runs: the argument as given; a missing one at the tool's default
 * (none published: missing, as before); a list, a string or any other value that is not an object
 * before the path's end fails the bound, since nothing on the path can be checked.
 */
function argProblemAsRun(a: ArgBound, args: Readonly<Record<string, unknown>>): string | undefined {
  let value: unknown = args;
  let defaulted = false;
  for (let i = 0; i < a.segments.length; i++) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      const at = a.segments.slice(0, i).join('.');
      return `cannot be checked: \`${at}\`${defaulted ? ' (its default)' : ''} is ${kindOf(value)}, not an object (a bound path names object keys only)`;
    }
    const seg = a.segments[i]!;
    const given = Object.prototype.hasOwnProperty.call(value, seg) ? (value as Record<string, unknown>)[seg] : undefined;
    if (given !== undefined) {
      value = given;
      continue;
    }
    // Left out: the tool runs it at its default, if it publishes one; the agent still has to give a required one.
    const fallback = a.defaults?.[i];
    if (a.bound.required) return 'is required by policy';
    if (fallback === undefined) return undefined;
    value = fallback.value;
    defaulted = true;
  }
  const problem = argProblem(a, value, true);
  return problem && defaulted ? `is not given, and the tool runs it at its default, which ${problem}` : problem;
}

function argProblem(a: ArgBound, value: unknown, asRun = false): string | undefined {
  const { bound, regex } = a;
  if (value === undefined) return bound.required ? 'is required by policy' : undefined;
  if (bound.min !== undefined || bound.max !== undefined) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return `must be a number, got ${show(value)}`;
    if (bound.min !== undefined && value < bound.min) return `is ${value}: below the minimum ${bound.min}`;
    if (bound.max !== undefined && value > bound.max) return `is ${value}: above the maximum ${bound.max}`;
  }
  if (bound.enum !== undefined && !bound.enum.some((v) => v === value)) return `is ${show(value)}: not one of ${bound.enum.map((v) => show(v)).join(', ')}`;
  if (regex !== undefined) {
    if (typeof value !== 'string') return `must be a string, got ${show(value)}`;
    // What the tool resolves `notes/..` to is not what the pattern saw: such text matches no pattern.
    const unsafe = asRun ? patternTextProblem(value) : undefined;
    if (unsafe) return `is ${show(value)}: it ${unsafe}, which the pattern \`${bound.pattern}\` cannot judge`;
    if (!regex.test(value)) return `is ${show(value)}: does not match the pattern \`${bound.pattern}\``;
  }
  if (bound.maxLength !== undefined) {
    if (typeof value !== 'string') return `must be a string, got ${show(value)}`;
    if (value.length > bound.maxLength) return `is ${value.length} characters long: above the maximum ${bound.maxLength}`;
  }
  if (bound.maxItems !== undefined) {
    if (!Array.isArray(value)) return `must be a list, got ${show(value)}`;
    if (value.length > bound.maxItems) return `has ${value.length} items: above the maximum ${bound.maxItems}`;
  }
  return undefined;
}

function blastFindings(tool: CompiledTool, radius: number | undefined, add: (f: Finding, shadow: boolean) => void): void {
  const b = tool.blast;
  if (!b) return;
  const name = tool.info.name;
  if (radius === undefined) {
    // A bounded tool without an estimate: nobody knows how much it touches, so a human looks.
    if (b.approvalAbove !== undefined || b.denyAbove !== undefined) add({ kind: 'approve', rule: 'blast-radius.unknown', message: `\`${name}\` has a blast-radius bound but no estimate was given` }, b.shadow);
    return;
  }
  if (b.denyAbove !== undefined && radius > b.denyAbove) {
    add({ kind: 'deny', rule: 'blast-radius.cap', message: `\`${name}\` would affect ${fmt(radius)} rows or objects: above the hard cap of ${fmt(b.denyAbove)}` }, b.shadow);
  } else if (b.approvalAbove !== undefined && radius > b.approvalAbove) {
    add({ kind: 'approve', rule: 'blast-radius.limit', message: `\`${name}\` would affect ${fmt(radius)} rows or objects: above the limit of ${fmt(b.approvalAbove)} without approval` }, b.shadow);
  }
}

function budgetFindings(policy: CompiledPolicy, state: SessionState, tool: CompiledTool, tokenCost: number, now: number, add: (f: Finding, shadow: boolean) => void): void {
  const used = budgetUsed(policy, state, now);
  const l = state.limits;
  const b = policy.budget;
  const per = `per ${b.windowMs / 60_000} minutes`;
  // Hard caps: the call would take a budget past 100%.
  if (used.actions + 1 > l.actions) add({ kind: 'deny', rule: 'budget.actions', message: `the session's budget of ${l.actions} actions ${per} is used up` }, b.shadow);
  if (tool.write && used.writes + 1 > l.writes) add({ kind: 'deny', rule: 'budget.writes', message: `the session's budget of ${l.writes} writes ${per} is used up` }, b.shadow);
  if (tool.critical) {
    if (used.critical + 1 > l.critical) add({ kind: 'deny', rule: 'budget.critical', message: `the session's budget of ${l.critical} critical actions ${per} is used up` }, b.shadow);
    // The critical action that takes the session read-only or closed is looked at by a human.
    else if ((used.critical + 1) / l.critical >= b.readOnlyAt) add({ kind: 'approve', rule: 'budget.critical', message: `this is critical action ${used.critical + 1} of ${l.critical} allowed ${per}: the session ${used.critical + 1 >= l.critical ? 'closes' : 'turns read-only'} after it` }, b.shadow);
  }
  if (used.tokens + tokenCost > l.tokens) add({ kind: 'deny', rule: 'cost.cap', message: `the session's cost cap of ${fmt(l.tokens)} tokens would be passed (${fmt(used.tokens)} spent, this call ${fmt(tokenCost)})` }, policy.costShadow);
}

function rateFindings(policy: CompiledPolicy, state: SessionState, tool: CompiledTool, now: number, add: (f: Finding, shadow: boolean) => void): void {
  // A session of a tree has its share of each limit (rateMax): the tree together has the policy's.
  const splits = state.rateSplits;
  const ofTree = (max: number, mine: number) => (mine === max ? '' : ` (its share of the session tree's ${max})`);
  const r = policy.sessionRate;
  const sessionMax = r ? rateMax(r.max, splits) : 0;
  if (r && countSince(state.rate.session, now - r.perMs) >= sessionMax) {
    add({ kind: 'deny', rule: 'rate.session', message: `the session passed its rate limit of ${sessionMax} proposals per ${r.perMs / 1000} seconds${ofTree(r.max, sessionMax)}` }, r.shadow);
  }
  const times = state.rate.tools[tool.info.name] ?? [];
  for (const t of tool.rates) {
    const max = rateMax(t.max, splits);
    if (countSince(times, now - t.perMs) >= max) add({ kind: 'deny', rule: 'rate.tool', message: `\`${tool.info.name}\` passed its rate limit of ${max} calls per ${t.perMs / 1000} seconds${ofTree(t.max, max)}` }, t.shadow);
  }
}

/**
 * The transition rules (enforced and shadow) `tool` would complete over `progress`: the session's
 * own, or a session tree's shared progress (policies/tree-sequences.ts).
 */
export function completedTransitions(policy: CompiledPolicy, progress: Pick<SessionState, 'step' | 'transitions'>, roles: readonly TransitionRole[], now: number): CompiledTransition[] {
  const step = progress.step + 1;
  const completed: CompiledTransition[] = [];
  for (const role of roles) {
    if (!role.completes) continue;
    const rule = policy.transitions[role.rule];
    if (!rule) continue;
    const start = progress.transitions[rule.id]?.[rule.globs.length - 2];
    if (!start) continue;
    if (rule.steps !== undefined && step - start.step > rule.steps) continue;
    if (rule.withinMs !== undefined && now - start.at > rule.withinMs) continue;
    completed.push(rule);
  }
  return completed;
}

function transitionFindings(policy: CompiledPolicy, state: SessionState, tool: CompiledTool, unlocked: boolean, now: number, add: (f: Finding, shadow: boolean) => void): void {
  for (const rule of completedTransitions(policy, state, tool.transitions, now)) {
    if (unlocked) add({ kind: 'note', always: true, rule: 'transition.unlocked', message: `\`${rule.id}\` is a forbidden transition: this call asks a person to unlock it out of band` }, rule.shadow);
    else add({ kind: 'deny', rule: 'transition.forbidden', message: `\`${rule.id}\`: ${rule.message}; only an out-of-band approval can unlock it`, unlockable: true }, rule.shadow);
  }
}

/**
 * Combining, in the order a gate must reason:
 * - any enforced deny → `deny` (a forbidden transition alone also offers the unlock requirement);
 * - else any enforced approval trigger → `approve`, with the tool's approver requirement;
 * - else → `allow`.
 * Shadow findings never change the verdict; they are combined with the enforced ones into
 * `decision.shadow`, "what the policy would decide if the shadow rules were enforced".
 */
function finish(policy: CompiledPolicy, tool: CompiledTool | undefined, enforced: readonly Finding[], shadow: readonly Finding[]): Decision {
  const verdict = combine(enforced);
  const base = {
    tier: tool?.tier ?? 'blocked',
    reasons: reasonsOf(enforced, verdict),
    policyHash: policy.hash,
    ...(policy.hasShadow ? { shadow: { verdict: combine([...enforced, ...shadow]), reasons: shadow.map(({ rule, message }) => ({ rule, message })) } } : {}),
  } as const;
  if (verdict === 'allow') return { verdict, ...base };
  if (verdict === 'approve') {
    // An unknown tool always carries a deny, so an approval always has its tool; `evaluate` turns a throw into a deny.
    if (!tool) throw new Error('an approval verdict without a known tool');
    return { verdict, ...base, approval: tool.approval };
  }
  const unlockable = tool !== undefined && enforced.some((f) => f.unlockable) && enforced.every((f) => f.kind !== 'deny' || f.unlockable);
  return { verdict, ...base, ...(unlockable ? { unlock: tool.unlock } : {}) };
}

function combine(findings: readonly Finding[]): Verdict {
  let approve = false;
  for (const f of findings) {
    if (f.kind === 'deny') return 'deny'; // any deny wins: no approval can outweigh it
    if (f.kind === 'approve') approve = true;
  }
  return approve ? 'approve' : 'allow'; // an approval trigger waits for a human; nothing fired: allow
}

/** Deny reasons first, then approval triggers, then notes (beside a deny or approval only those marked `always`). */
function reasonsOf(findings: readonly Finding[], verdict: Verdict): Reason[] {
  const order: readonly Kind[] = verdict === 'allow' ? ['note'] : verdict === 'approve' ? ['approve', 'note'] : ['deny', 'approve', 'note'];
  const out: Reason[] = [];
  for (const kind of order) for (const f of findings) if (f.kind === kind && (kind !== 'note' || verdict === 'allow' || f.always)) out.push({ rule: f.rule, message: f.message });
  return out;
}

function countSince(times: readonly number[], from: number): number {
  let n = 0;
  for (let i = times.length - 1; i >= 0; i--) {
    if ((times[i] ?? 0) > from) n++;
    else break;
  }
  return n;
}

const mandateGlobs = new WeakMap<object, Glob[]>();

function inMandate(mandate: NonNullable<SessionState['mandate']>, tool: CompiledTool): boolean {
  if (mandate.resources.includes(tool.info.resource)) return true;
  // Globs compiled once per mandate object (a transparent cache: same input, same answer).
  let globs = mandateGlobs.get(mandate);
  if (!globs) {
    globs = mandate.tools.filter((t): t is string => typeof t === 'string').map(compileGlob);
    mandateGlobs.set(mandate, globs);
  }
  return matchesAny(globs, tool.info.name);
}

function proposalProblem(p: unknown): string | undefined {
  if (p === null || typeof p !== 'object' || Array.isArray(p)) return 'expected an object `{ tool, args, reasoning }`';
  const r = p as Record<string, unknown>;
  if (typeof r.tool !== 'string' || r.tool.length === 0) return '`tool` must be a non-empty string';
  if (r.args === null || typeof r.args !== 'object' || Array.isArray(r.args)) return '`args` must be an object';
  if (typeof r.reasoning !== 'string') return '`reasoning` must be a string';
  if (r.tokenCost !== undefined && (typeof r.tokenCost !== 'number' || !Number.isFinite(r.tokenCost) || r.tokenCost < 0)) return '`tokenCost` must be a number ≥ 0';
  if (r.idempotencyKey !== undefined && typeof r.idempotencyKey !== 'string') return '`idempotencyKey` must be a string';
  return undefined;
}

function factsProblem(f: unknown): string | undefined {
  if (f === undefined || f === null) return undefined;
  if (typeof f !== 'object' || Array.isArray(f)) return 'facts must be an object';
  const r = f as Record<string, unknown>;
  if (r.blastRadius !== undefined && (typeof r.blastRadius !== 'number' || !Number.isFinite(r.blastRadius) || r.blastRadius < 0)) return 'the blast-radius estimate must be a number ≥ 0';
  if (r.transitionUnlocked !== undefined && typeof r.transitionUnlocked !== 'boolean') return '`transitionUnlocked` must be true or false';
  return undefined;
}

function safeHash(policy: unknown): string {
  const h = (policy as { hash?: unknown } | null)?.hash;
  return typeof h === 'string' ? h : '';
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return `\`${text.length > 40 ? `${text.slice(0, 37)}...` : text}\``;
}

/** 14200 → `14,200`; by hand, because Intl output may differ between runtimes (replay). */
function fmt(n: number): string {
  const [int = '0', frac] = String(n).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

function round(n: number): string {
  return (Math.round(n * 100) / 100).toString();
}
