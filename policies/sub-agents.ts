/**
 * Whether a session may start a sub-agent, and what the child takes with it. Pure: the workflow
 * asks `spawnAdmission` and `childMandate`, scores the two intents (an activity), asks
 * `spawnDecision`, then starts the child with the share `childStart` gives.
 */
import { requirement, type CompiledPolicy } from './compile';
import { refusal } from './gate';
import { compileGlob, matchesAny } from './glob';
import { childBudget, inheritedTransitions, rateMax, type InheritedRates, type InheritedTransitions, type SessionState } from './state';
import type { BudgetOverride, Decision, Mandate, Reason, SessionMode, ToolInfo } from './types';

/** The parent session, as the spawn decision sees it. */
export interface SpawnSession {
  readonly sessionId: string;
  readonly halted: boolean;
  readonly mode: SessionMode;
}

/** A halted parent, or one not in normal mode, may not start sub-agents (`undefined`: it may ask). */
export function spawnAdmission(policy: CompiledPolicy, parent: SpawnSession): Decision | undefined {
  if (parent.halted) return refusal(policy.hash, 'session.halted', `session \`${parent.sessionId}\` was halted`);
  if (parent.mode !== 'normal') return refusal(policy.hash, 'session.mode', `a session in \`${parent.mode}\` mode may not start sub-agents`);
  return undefined;
}

/**
 * Given the similarity of the child's declared intent to the parent's (0..1): `allow` when close,
 * `approve` by the policy's default approvers when far (below `intent.reviewBelow`).
 */
export function spawnDecision(policy: CompiledPolicy, intentScore: number): Decision {
  const threshold = policy.intent.reviewBelow;
  if (intentScore >= threshold) return { verdict: 'allow', tier: 'autonomous', reasons: [], policyHash: policy.hash };
  return {
    verdict: 'approve',
    tier: 'approval',
    reasons: [{ rule: 'intent.child', message: `sub-agent intent scores ${intentScore.toFixed(2)} against the parent's, below ${threshold}` }],
    policyHash: policy.hash,
    approval: requirement(policy.document.approvers.default, false),
  };
}

/** A child's start: its budget share, the transitions it inherits, and the parent's state after. */
export interface ChildStart {
  readonly share: Required<BudgetOverride>;
  readonly inherited: InheritedTransitions | undefined;
  /** With `shareRates`: the child's share of the rate limits, and the parent's rate windows it starts with. */
  readonly rates?: InheritedRates;
  /** The parent's caps lowered by the share: both cannot spend it. */
  readonly parentState: SessionState;
}

/**
 * `shareRates` (patch `rates-shared-in-tree`): the rate limits are shared as the budget is — the
 * child takes the policy's share of each (rounded down) and the parent keeps the rest — and the
 * child starts with the parent's rate windows, so the calls the parent made still count. Without
 * it a child started with whole limits and empty windows, and each sub-agent multiplied the rates.
 */
export function childStart(policy: CompiledPolicy, parent: SessionState, now: number, shareRates = false): ChildStart {
  const share = childBudget(policy, parent, now);
  const l = parent.limits;
  const split = policy.document.subAgents.budgetShare;
  const splits = parent.rateSplits ?? [];
  // Once the share of the largest limit rounds down to nothing, keeping the rest changes no limit: not
  // recorded, so the parent's splits stay a handful however many children it starts. The child then
  // takes nothing of any limit, also of a larger one its own catalog may bring (an upstream tool listed
  // since the parent started): a split the parent did not record cannot take from it.
  const keeps = Math.floor(rateMax(Math.max(policy.rateKeep.session, policy.rateKeep.tool), splits) * split) > 0;
  return {
    share,
    inherited: inheritedTransitions(policy, parent),
    ...(shareRates ? { rates: { splits: [...splits, { share: keeps ? split : 0, took: true }], windows: parent.rate } } : {}),
    parentState: {
      ...parent,
      ...(shareRates && keeps ? { rateSplits: [...splits, { share: split, took: false }] } : {}),
      limits: {
        actions: Math.max(0, l.actions - share.actions),
        writes: Math.max(0, l.writes - share.writes),
        critical: Math.max(0, l.critical - share.critical),
        tokens: Math.max(0, l.tokens - share.tokens),
      },
    },
  };
}

/** A sub-agent's mandate (`childMandate`): within its parent's, or refused. */
export type ChildMandate = { readonly ok: true; readonly mandate?: Mandate } | { readonly ok: false; readonly reason: Reason };

/**
 * The mandate a sub-agent starts with: it may only narrow its parent's. A parent without one
 * bounds nothing, so the child takes what it asked for; a child that asked for none takes the
 * parent's; asked for one under a parent's, a call must fall inside both.
 *
 * A mandate admits a call by its tool's name (globs) *or* its resource, so the intersection of
 * two is in general no mandate of that shape (a tool glob of one meets a resource of the other).
 * It is spelled over the policy's catalog instead: the resources both name, and every tool of the
 * catalog inside both that those resources do not already cover, by its exact name. A tool the
 * catalog did not have is then outside the child's mandate unless its resource is one both name:
 * narrower, never wider. Nothing inside both is refused (`child.mandate`): an empty mandate would
 * bound nothing.
 */
export function childMandate(policy: CompiledPolicy, parent: SessionState['mandate'], asked: Mandate | undefined): ChildMandate {
  const askedTools = (asked?.tools ?? []).filter((t): t is string => typeof t === 'string' && t !== '');
  const askedResources = (asked?.resources ?? []).filter((r): r is string => typeof r === 'string' && r !== '');
  const anyAsked = askedTools.length > 0 || askedResources.length > 0;
  // No mandate in the parent: every call is inside it, so the child's is its own.
  if (!parent) return anyAsked && asked ? { ok: true, mandate: asked } : { ok: true };
  // None asked: the parent's.
  if (!anyAsked) return { ok: true, mandate: { tools: [...parent.tools], resources: [...parent.resources] } };
  const resources = [...new Set(askedResources.filter((r) => parent.resources.includes(r)))];
  const inParent = admits(parent.tools, parent.resources);
  const inAsked = admits(askedTools, askedResources);
  const tools = [...policy.tools.values()]
    .map((t) => t.info)
    .filter((info) => !resources.includes(info.resource) && inParent(info) && inAsked(info))
    .map((info) => info.name)
    .sort();
  if (resources.length === 0 && tools.length === 0) {
    return { ok: false, reason: { rule: 'child.mandate', message: `the mandate asked for shares no tool or resource with the parent session's (${describe(parent)}): a sub-agent's mandate may only narrow its parent's` } };
  }
  return { ok: true, mandate: { ...(tools.length > 0 ? { tools } : {}), ...(resources.length > 0 ? { resources } : {}) } };
}

/** Whether a mandate of these tool globs and resources admits a tool (as `evaluate` judges it). */
function admits(tools: readonly string[], resources: readonly string[]): (info: ToolInfo) => boolean {
  const globs = tools.filter((t) => typeof t === 'string').map(compileGlob);
  return (info) => resources.includes(info.resource) || matchesAny(globs, info.name);
}

function describe(m: NonNullable<SessionState['mandate']>): string {
  const parts = [...(m.tools.length > 0 ? [`tools ${m.tools.map((t) => `\`${t}\``).join(', ')}`] : []), ...(m.resources.length > 0 ? [`resources ${m.resources.map((r) => `\`${r}\``).join(', ')}`] : [])];
  return parts.join('; ');
}
