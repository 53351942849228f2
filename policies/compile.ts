/**
 * Compiling a policy document against a tool catalog, once, into lookup tables: per tool its
 * tier, always-blocked entry, argument bounds, blast-radius bounds, rate limit, approvers and the
 * transition rules it takes part in. `evaluate` then does map lookups and small loops only.
 */
import { compileGlob, matchesAny, type Glob } from './glob';
import { sha256Hex, canonicalJson } from './hash';
import { transitionId, transitionSequence, type ApproverRule, type MatchedApproverRule, type PolicyDocument, type ToolRule } from './document';
import type { PolicyIssue } from './parse';
import type { ApprovalRequirement, Effect, Tier, ToolInfo } from './types';
import type { RuleId } from './rules';
import { classifyCatalog, type UpstreamClassification } from './upstream';
import { ledgerRules, ruleNames, type LedgerRule } from './ledger';
import { compileArgBounds, type CompileOptions, type CompiledArgBound } from './compile-args';
import { looseningWarnings } from './loosening-warnings';

/** A rule's finding is enforced, or only recorded (shadow). */
export interface Moded {
  readonly shadow: boolean;
}

export interface CompiledRate extends Moded {
  readonly max: number;
  readonly perMs: number;
}

/** Where a tool takes part in a transition rule: the positions of the sequence it matches. */
export interface TransitionRole {
  readonly rule: number;
  readonly positions: readonly number[];
  /** True when the tool matches the last position (it can complete the sequence). */
  readonly completes: boolean;
}

/** The places a tool named `name` takes in each transition rule (by name alone: no catalog needed). */
export function transitionRolesOf(transitions: readonly CompiledTransition[], name: string): TransitionRole[] {
  const roles: TransitionRole[] = [];
  transitions.forEach((t, i) => {
    const positions: number[] = [];
    t.globs.forEach((g, pos) => {
      if (g.test(name)) positions.push(pos);
    });
    if (positions.length > 0) roles.push({ rule: i, positions, completes: positions[positions.length - 1] === t.globs.length - 1 });
  });
  return roles;
}

export interface CompiledTool {
  readonly info: ToolInfo;
  /** The enforced tier after defaults and overrides (`blocked` when always blocked). */
  readonly tier: Tier;
  readonly tierRule: RuleId;
  readonly tierMessage: string;
  /** True in a shadow policy: the tier's finding is recorded, not enforced. */
  readonly tierShadow: boolean;
  /** A tier override in shadow mode: what it would have made the tier. */
  readonly shadowTier?: { readonly tier: Tier; readonly rule: RuleId; readonly message: string };
  readonly alwaysBlocked: readonly (Moded & { readonly rule: RuleId; readonly message: string })[];
  /** Writes count against the `writes` budget: every effect but `read`. */
  readonly write: boolean;
  /** Critical = destructive, or approval tier by the policy's tier table or overrides. */
  readonly critical: boolean;
  readonly args: readonly CompiledArgBound[];
  readonly blast?: Moded & { readonly approvalAbove?: number; readonly denyAbove?: number };
  readonly rates: readonly CompiledRate[];
  readonly approval: ApprovalRequirement;
  readonly unlock: ApprovalRequirement;
  readonly transitions: readonly TransitionRole[];
  /** For a tool of an upstream MCP server: how the policy classified it (`info` carries the effect). */
  readonly upstream?: UpstreamClassification;
  /**
   * The cross-session rules (`agent:`, `owner:`) that name this tool, per ledger; absent when none
   * do — such a tool never asks a ledger, so it costs what it did before.
   */
  readonly crossSession?: CrossSessionRules;
}

/** Cross-session rules of one tool, per ledger (a scope without rules is left out). */
export interface CrossSessionRules {
  readonly agent?: readonly LedgerRule[];
  readonly owner?: readonly LedgerRule[];
}

export interface CompiledTransition extends Moded {
  readonly id: string;
  readonly globs: readonly Glob[];
  readonly steps?: number;
  readonly withinMs?: number;
  readonly message: string;
}

/** A policy ready to evaluate: carries its hash and the document it came from. */
export interface CompiledPolicy {
  /** sha256 of the canonical JSON of the normalised document. */
  readonly hash: string;
  readonly document: PolicyDocument;
  /** The catalog as the policy sees it: upstream tools classified, unclassified ones left out. */
  readonly catalog: readonly ToolInfo[];
  readonly tools: ReadonlyMap<string, CompiledTool>;
  /** Upstream MCP tools the policy does not classify (unknown, hence denied). */
  readonly unclassified: readonly string[];
  readonly transitions: readonly CompiledTransition[];
  readonly budget: Moded & { readonly windowMs: number; readonly actions: number; readonly writes: number; readonly critical: number; readonly tokens: number; readonly readOnlyAt: number };
  readonly costShadow: boolean;
  readonly sessionRate?: CompiledRate;
  /** `writesNeedWriteIntent`: a write needs a declared intent that asks for it (`intent.effect`). */
  readonly intent: Moded & { readonly reviewBelow: number; readonly decay: number; readonly writesNeedWriteIntent: boolean };
  /** `resourceWrites`: a write to a resource the session read `afterReads` times (inside `withinMs`) needs approval; absent without the section. */
  readonly resourceWrites?: Moded & { readonly afterReads: number; readonly withinMs?: number };
  readonly mandate: Moded & { readonly effects: readonly Effect[] };
  /** Always-blocked entries, for tools outside the catalog too (reported before `tool.unknown`). */
  readonly blockedGlobs: readonly (Moded & { readonly glob: Glob; readonly rule: RuleId; readonly message: string })[];
  /** True when any rule runs in shadow mode: decisions then carry `shadow`. */
  readonly hasShadow: boolean;
  /** Most recent proposals a rate window needs to keep, per session and per tool. */
  readonly rateKeep: { readonly session: number; readonly tool: number; readonly windowMs: number };
  /** Non-fatal findings: rules that match no tool of the catalog, and what loosens the gate (`./loosening-warnings`). */
  readonly warnings: readonly PolicyIssue[];
}

const MINUTE = 60_000;

/** Compiles a parsed document against the tool catalog. Pure; never throws on a parsed document. */
export function compilePolicy(doc: PolicyDocument, catalog: readonly ToolInfo[], options: CompileOptions = {}): CompiledPolicy {
  const asRun = options.argumentsAsRun !== false;
  // Upstream MCP tools take their effect from this policy; the ones it does not classify stay unknown.
  const classified = classifyCatalog(doc, catalog);
  const tools = classified.tools;
  const policyShadow = doc.mode === 'shadow';
  const shadowOf = (mode: 'enforce' | 'shadow' | undefined) => policyShadow || mode === 'shadow';
  let hasShadow = policyShadow;
  const warnings: PolicyIssue[] = [];

  // Always-blocked is a floor: a shadow *policy* still enforces it; only an entry marked shadow is not.
  const blockedGlobs = doc.alwaysBlocked.map((entry) => {
    const tool = typeof entry === 'string' ? entry : entry.tool;
    const shadow = typeof entry === 'string' ? false : entry.mode === 'shadow';
    if (shadow) hasShadow = true;
    const why = typeof entry === 'string' || !entry.reason ? '' : `: ${entry.reason}`;
    return { glob: compileGlob(tool), shadow, rule: 'tool.always-blocked' as const, message: `\`${tool}\` is always blocked by policy${why}; no approver can unlock it` };
  });

  const transitions: CompiledTransition[] = doc.transitions.map((rule, i) => {
    const seq = transitionSequence(rule);
    const shadow = shadowOf(rule.mode);
    if (shadow) hasShadow = true;
    const within = rule.within;
    const span = [within?.steps !== undefined ? `within ${within.steps} step${within.steps === 1 ? '' : 's'}` : '', within?.minutes !== undefined ? `within ${within.minutes} minutes` : '']
      .filter(Boolean)
      .join(' and ');
    const why = rule.reason ? `: ${rule.reason}` : '';
    return {
      id: transitionId(rule, i),
      globs: seq.map(compileGlob),
      steps: within?.steps,
      withinMs: within?.minutes !== undefined ? within.minutes * MINUTE : undefined,
      shadow,
      message: `${seq.map((s) => `\`${s}\``).join(' then ')}${span ? ` ${span}` : ''} is a forbidden transition${why}`,
    };
  });
  transitions.forEach((t, i) => {
    t.globs.forEach((g, pos) => {
      if (!tools.some((tool) => g.test(tool.name))) warnings.push({ code: 'unused', path: `transitions[${i}]${'sequence' in (doc.transitions[i] ?? {}) ? `.sequence[${pos}]` : pos === 0 ? '.from' : '.to'}`, message: `\`${g.source}\` matches no tool of the catalog`, subject: g.source });
    });
  });

  const ruleKeys = Object.keys(doc.tools);
  for (const key of ruleKeys) {
    const glob = compileGlob(key);
    if (!tools.some((t) => glob.test(t.name))) warnings.push({ code: 'unused', path: `tools[${JSON.stringify(key)}]`, message: `\`${key}\` matches no tool of the catalog`, subject: key });
    const rule = doc.tools[key];
    if (rule && shadowOf(rule.mode)) hasShadow = true;
    if (rule?.rateLimit?.mode === 'shadow') hasShadow = true;
  }
  for (const p of classified.problems) warnings.push({ code: 'estimate', path: 'upstreamTools', message: p.message });
  for (const name of classified.unclassified) {
    // A server's resources/prompts tools the policy names nothing of are not worth a warning each.
    if (name.includes('/')) continue;
    warnings.push({ code: 'unclassified', path: 'upstreamTools', message: `upstream tool \`${name}\` is not classified by the policy: it is unknown and denied` });
  }
  if (catalog.some((t) => t.upstream)) {
    for (const key of Object.keys(doc.upstreamTools ?? {})) {
      const glob = compileGlob(key);
      if (!catalog.some((t) => t.upstream && !t.name.includes('/') && glob.test(t.name))) warnings.push({ code: 'unused', path: `upstreamTools[${JSON.stringify(key)}]`, message: `\`${key}\` matches no upstream tool`, subject: key });
    }
  }
  // A server whose resources or prompts the policy names, but that offers none (or is not configured).
  if (catalog.some((t) => t.upstream)) {
    for (const [section, method] of [['upstreamResources', 'resources/read'], ['upstreamPrompts', 'prompts/get']] as const) {
      for (const server of Object.keys(doc[section] ?? {})) {
        if (!catalog.some((t) => t.name === `${server}.${method}`)) warnings.push({ code: 'unused', path: `${section}.${server}`, message: `upstream server \`${server}\` offers no ${section === 'upstreamResources' ? 'resources' : 'prompts'}` });
      }
    }
  }
  const perTool = doc.rateLimits.perTool;
  const sessionRate = doc.rateLimits.perSession ? { max: doc.rateLimits.perSession.max, perMs: doc.rateLimits.perSession.perSeconds * 1000, shadow: shadowOf(doc.rateLimits.perSession.mode) } : undefined;
  if (sessionRate?.shadow || perTool.mode === 'shadow') hasShadow = true;

  // Cross-session rules are enforced by the ledgers; a shadow policy asks none (documented).
  const agentRules = policyShadow ? [] : ledgerRules(doc.agent);
  const ownerRules = policyShadow ? [] : ledgerRules(doc.owner);
  for (const [scope, list] of [['agent', agentRules], ['owner', ownerRules]] as const) {
    for (const kind of ['budget', 'transition'] as const) {
      list.filter((r) => r.kind === kind).forEach((rule, i) => {
        if (!tools.some((t) => ruleNames(rule, t.name, t.effect))) warnings.push({ code: 'unused', path: `${scope}.${kind}s[${i}]`, message: `\`${rule.id}\` matches no tool of the catalog` });
      });
    }
  }

  const compiled = new Map<string, CompiledTool>();
  for (const info of tools) {
    const rules = matchingRules(doc, info.name, ruleKeys);
    let tool = compileTool(doc, info, rules, blockedGlobs, transitions, shadowOf, asRun);
    const upstream = classified.upstream.get(info.name);
    if (upstream) tool = { ...tool, upstream };
    // By name or, for a budget with `effects`, by the tool's effect (an upstream tool's as the policy classified it).
    const agent = agentRules.filter((r) => ruleNames(r, info.name, info.effect));
    const owner = ownerRules.filter((r) => ruleNames(r, info.name, info.effect));
    if (agent.length > 0 || owner.length > 0) tool = { ...tool, crossSession: { ...(agent.length > 0 ? { agent } : {}), ...(owner.length > 0 ? { owner } : {}) } };
    compiled.set(info.name, tool);
  }
  // Names the catalog lacks where they would have held a tool back, and destructive tools run autonomously.
  warnings.push(...looseningWarnings(doc, catalog, tools, compiled));

  const budgetShadow = shadowOf(doc.budget.mode);
  const costShadow = shadowOf(doc.costCap.mode);
  const intentShadow = shadowOf(doc.intent.mode);
  const mandateShadow = shadowOf(doc.mandate.mode);
  const readThenWrite = doc.resourceWrites;
  const resourceWrites = readThenWrite
    ? { afterReads: readThenWrite.afterReads, ...(readThenWrite.within ? { withinMs: readThenWrite.within.minutes * MINUTE } : {}), shadow: shadowOf(readThenWrite.mode) }
    : undefined;
  if (budgetShadow || costShadow || intentShadow || mandateShadow || resourceWrites?.shadow) hasShadow = true;

  let toolKeep = perTool.max;
  let windowMs = perTool.perSeconds * 1000;
  for (const tool of compiled.values()) {
    for (const r of tool.rates) {
      toolKeep = Math.max(toolKeep, r.max);
      windowMs = Math.max(windowMs, r.perMs);
    }
  }
  if (sessionRate) windowMs = Math.max(windowMs, sessionRate.perMs);

  return {
    hash: sha256Hex(canonicalJson(doc)),
    document: doc,
    catalog: tools,
    tools: compiled,
    unclassified: classified.unclassified,
    transitions,
    budget: {
      windowMs: doc.budget.windowMinutes * MINUTE,
      actions: doc.budget.actions,
      writes: doc.budget.writes,
      critical: doc.budget.critical,
      tokens: doc.costCap.tokens,
      readOnlyAt: doc.budget.readOnlyAt,
      shadow: budgetShadow,
    },
    costShadow,
    sessionRate,
    intent: { reviewBelow: doc.intent.reviewBelow, decay: doc.intent.decay, shadow: intentShadow, writesNeedWriteIntent: doc.intent.writesNeedWriteIntent === true },
    ...(resourceWrites ? { resourceWrites } : {}),
    mandate: { effects: doc.mandate.effects, shadow: mandateShadow },
    blockedGlobs,
    hasShadow,
    rateKeep: { session: sessionRate?.max ?? 0, tool: toolKeep, windowMs },
    warnings,
  };
}

/** Tool rules that apply to a name: the exact key first, then matching globs in document order. */
function matchingRules(doc: PolicyDocument, name: string, keys: readonly string[]): ToolRule[] {
  const out: ToolRule[] = [];
  const exact = doc.tools[name];
  if (exact) out.push(exact);
  for (const key of keys) {
    if (key !== name && compileGlob(key).test(name)) {
      const rule = doc.tools[key];
      if (rule) out.push(rule);
    }
  }
  return out;
}

function compileTool(
  doc: PolicyDocument,
  info: ToolInfo,
  rules: readonly ToolRule[],
  blockedGlobs: CompiledPolicy['blockedGlobs'],
  transitions: readonly CompiledTransition[],
  shadowOf: (mode: 'enforce' | 'shadow' | undefined) => boolean,
  asRun: boolean,
): CompiledTool {
  // Tier: the effect × environment table, then the first override that sets one.
  const table = doc.tiers[info.effect];
  const tableTier: Tier = table[info.environment] ?? table.default ?? (info.effect === 'read' ? 'autonomous' : 'approval');
  const tableRule = `tier.${info.effect}` as const;
  const tableMessage = tierMessage(info, tableTier, 'tier table');
  let tier = tableTier;
  let tierRule: RuleId = tableRule;
  let tierMsg = tableMessage;
  let shadowTier: CompiledTool['shadowTier'];
  const override = rules.find((r) => r.tier !== undefined);
  if (override?.tier) {
    const msg = tierMessage(info, override.tier, 'per-tool override');
    if (shadowOf(override.mode)) shadowTier = { tier: override.tier, rule: 'tool.tier', message: msg };
    else {
      tier = override.tier;
      tierRule = 'tool.tier';
      tierMsg = msg;
    }
  }
  const alwaysBlocked = blockedGlobs.filter((b) => b.glob.test(info.name)).map(({ shadow, rule, message }) => ({ shadow, rule, message }));

  const args = compileArgBounds(info, rules, shadowOf, asRun);
  const blastRule = rules.find((r) => r.blastRadius !== undefined);
  const blast = blastRule?.blastRadius ? { ...blastRule.blastRadius, shadow: shadowOf(blastRule.mode) } : undefined;

  // Rate: the tool's own limit, else the policy's per-tool default; a shadow limit runs beside the default.
  const perTool = doc.rateLimits.perTool;
  const base: CompiledRate = { max: perTool.max, perMs: perTool.perSeconds * 1000, shadow: shadowOf(perTool.mode) };
  const rateRule = rules.find((r) => r.rateLimit !== undefined);
  const own = rateRule?.rateLimit ? { max: rateRule.rateLimit.max, perMs: rateRule.rateLimit.perSeconds * 1000, shadow: shadowOf(rateRule.rateLimit.mode ?? rateRule.mode) } : undefined;
  const rates = own === undefined ? [base] : own.shadow ? [base, own] : [own];

  const approver = approverRuleFor(doc, info);
  const roles = transitionRolesOf(transitions, info.name);

  return {
    info,
    tier: alwaysBlocked.some((b) => !b.shadow) ? 'blocked' : tier,
    tierShadow: doc.mode === 'shadow',
    tierRule,
    tierMessage: tierMsg,
    shadowTier,
    alwaysBlocked,
    write: info.effect !== 'read',
    critical: info.effect === 'destructive' || tier === 'approval',
    args,
    blast,
    rates,
    approval: requirement(approver, false),
    unlock: requirement(doc.approvers.transitionUnlock ?? approver, true),
    transitions: roles,
  };
}

function tierMessage(info: ToolInfo, tier: Tier, how: string): string {
  const what = `${info.effect} tool \`${info.name}\` on ${info.environment}`;
  if (tier === 'autonomous') return `${what} runs autonomously (${how})`;
  if (tier === 'approval') return `${what} needs human approval (${how})`;
  return `${what} is blocked (${how})`;
}

/** The approver rule for a tool: rules naming tools first, then rules by effect, then the default. */
export function approverRuleFor(doc: PolicyDocument, info: ToolInfo): ApproverRule {
  const fits = (r: MatchedApproverRule) => r.effects === undefined || r.effects.includes(info.effect);
  const byTool = doc.approvers.rules.find((r) => r.tools !== undefined && matchesAny(r.tools.map(compileGlob), info.name) && fits(r));
  if (byTool) return byTool;
  const byEffect = doc.approvers.rules.find((r) => r.tools === undefined && fits(r));
  return byEffect ?? doc.approvers.default;
}

/** Turns an approver rule into the requirement a workflow acts on (minutes → ms). */
export function requirement(rule: ApproverRule, unlocksTransition: boolean): ApprovalRequirement {
  const timeoutMs = Math.round(rule.timeoutMinutes * MINUTE);
  const n = rule.groups.length;
  // Without explicit steps, escalations are spread evenly over the timeout.
  const escalateAfterMs = rule.escalateAfterMinutes ? rule.escalateAfterMinutes.map((m) => Math.round(m * MINUTE)) : Array.from({ length: n - 1 }, (_, i) => Math.round((timeoutMs * (i + 1)) / n));
  return { groups: [...rule.groups], approversRequired: rule.approversRequired, escalateAfterMs, timeoutMs, channel: rule.channel, fourEyes: rule.fourEyes, unlocksTransition };
}
