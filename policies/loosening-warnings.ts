/**
 * Warnings about what a policy says that silently loosens the gate: a name the catalog lacks in a
 * rule that would have held a tool back (an always-blocked entry, an approver rule, a tier-table
 * environment), a bound on an argument path the tool does not declare, and a destructive tool
 * that runs on its own ("deletions are never automatic"). Each is valid to the schema and means
 * less than it says. `gatehouse policy check` reports them; a production worker refuses them
 * (`loosensTheGate`). Pure.
 */
import type { CompiledTool } from './compile';
import { DEFAULT_ALWAYS_BLOCKED, DEFAULT_TIERS, type PolicyDocument } from './document';
import { compileGlob } from './glob';
import { formatPath, type PolicyIssue } from './parse';
import { closestName } from './suggest';
import type { Effect, ToolInfo } from './types';

/** The codes of this module's warnings (beside `unused`, which it shares with the compiler's others). */
export const UNKNOWN_ENVIRONMENT = 'unknown-environment';
export const UNKNOWN_ARGUMENT = 'unknown-argument';
export const AUTONOMOUS_DESTRUCTIVE = 'autonomous-destructive';
export const WITHIN_ZERO = 'within-zero';

/**
 * True for a warning that leaves a tool less guarded than the document says: a production worker
 * refuses to start on one. (A rule of `tools`, `transitions` or the ledgers naming no tool is
 * reported too, but may name an upstream tool listed later.)
 */
export function loosensTheGate(issue: PolicyIssue): boolean {
  if (issue.code === UNKNOWN_ENVIRONMENT || issue.code === UNKNOWN_ARGUMENT || issue.code === AUTONOMOUS_DESTRUCTIVE || issue.code === WITHIN_ZERO) return true;
  // A glob that matches nothing yet (`*.drop_database`, for servers to come) guards; a plain name that matches nothing is a typo.
  return issue.code === 'unused' && (issue.path === 'alwaysBlocked' || issue.path.startsWith('approvers.rules[')) && !/[*?]/.test(issue.subject ?? '');
}

/**
 * The warnings of a compiled document: `catalog` as given (always-blocked entries hold for tools
 * the policy does not classify too), `tools` as the policy classifies them, `compiled` per tool.
 */
export function looseningWarnings(doc: PolicyDocument, catalog: readonly ToolInfo[], tools: readonly ToolInfo[], compiled: ReadonlyMap<string, CompiledTool>): PolicyIssue[] {
  const warnings: PolicyIssue[] = [];
  const matchesSome = (name: string, among: readonly ToolInfo[]) => {
    const glob = compileGlob(name);
    return among.some((t) => glob.test(t.name));
  };

  // An entry the document wrote (the defaults name families a catalog may lack) that blocks nothing:
  // the tool it meant is not blocked.
  const defaults: readonly string[] = DEFAULT_ALWAYS_BLOCKED;
  for (const entry of doc.alwaysBlocked) {
    const tool = typeof entry === 'string' ? entry : entry.tool;
    if (!defaults.includes(tool) && !matchesSome(tool, catalog)) warnings.push({ code: 'unused', path: 'alwaysBlocked', message: `\`${tool}\` matches no tool of the catalog`, subject: tool });
  }

  // A rule naming no tool: the tool it meant gets the default approvers (fewer, or without four eyes).
  doc.approvers.rules.forEach((rule, i) => {
    rule.tools?.forEach((name, j) => {
      if (!matchesSome(name, tools)) warnings.push({ code: 'unused', path: `approvers.rules[${i}].tools[${j}]`, message: `\`${name}\` matches no tool of the catalog`, subject: name });
    });
  });

  // A tier-table environment no tool has: the environment it meant falls to `default`.
  const environments = [...new Set([...tools.map((t) => t.environment), ...Object.values(doc.upstreamTools ?? {}).map((u) => u.environment)])];
  for (const effect of EFFECTS) {
    const table = doc.tiers[effect];
    // The default table (written or not) is not the document's choice of names.
    if (sameTable(table, DEFAULT_TIERS[effect])) continue;
    for (const env of Object.keys(table)) {
      if (env === 'default' || environments.includes(env)) continue;
      const near = closestName(env, environments);
      warnings.push({ code: UNKNOWN_ENVIRONMENT, path: formatPath(['tiers', effect, env]), message: `no tool of the catalog is in environment \`${env}\`${near ? `: did you mean \`${near}\`?` : ''}`, subject: env });
    }
  }

  // A transition within 0 minutes: nothing follows within no time, so the rule never applies.
  doc.transitions.forEach((rule, i) => {
    if (rule.within?.minutes === 0) warnings.push({ code: WITHIN_ZERO, path: `transitions[${i}].within.minutes`, message: 'a rule within 0 minutes never applies: omit `within` for no time limit, or give the minutes it means' });
  });

  // "Deletions are never automatic": the tier table or a per-tool override letting one run on its own.
  for (const [env, tier] of Object.entries(doc.tiers.destructive)) {
    if (tier !== 'autonomous') continue;
    const where = env === 'default' ? 'in environments the table does not name' : `in \`${env}\``;
    warnings.push({ code: AUTONOMOUS_DESTRUCTIVE, path: formatPath(['tiers', 'destructive', env]), message: `destructive tools ${where} run autonomously: deletions are never automatic, use \`approval\`` });
  }
  const keys = Object.keys(doc.tools);
  for (const tool of compiled.values()) {
    if (tool.info.effect !== 'destructive' || tool.tier !== 'autonomous' || tool.tierRule !== 'tool.tier') continue;
    const key = tierKeyOf(doc, tool.info.name, keys);
    if (key === undefined) continue;
    warnings.push({ code: AUTONOMOUS_DESTRUCTIVE, path: formatPath(['tools', key, 'tier']), message: `destructive tool \`${tool.info.name}\` runs autonomously: deletions are never automatic, use \`approval\`` });
  }
  return warnings;
}

/**
 * What of a tool's input JSON Schema a bound path is judged against: `properties` (nested), and
 * `anyOf` / `oneOf` / `allOf` branches. Anything else (a map, a scalar, no schema) is not judged.
 */
export type ArgumentSchema = Readonly<Record<string, unknown>>;

/**
 * Bounds on argument paths the tool's input does not declare (`Limit` for `limit`): the bound
 * applies to an argument no valid call carries, and the one it meant goes unbounded. `schemas`
 * holds a tool's input JSON Schema by name; a tool without one is not judged. A glob's bound is
 * reported when no tool it matches declares the path.
 */
export function argumentPathWarnings(doc: PolicyDocument, tools: readonly ToolInfo[], schemas: ReadonlyMap<string, ArgumentSchema>): PolicyIssue[] {
  const warnings: PolicyIssue[] = [];
  for (const [key, rule] of Object.entries(doc.tools)) {
    const glob = compileGlob(key);
    const judged = tools.filter((t) => glob.test(t.name) && schemas.has(t.name));
    if (judged.length === 0) continue;
    for (const path of Object.keys(rule.args ?? {})) {
      const segments = path.split('.');
      // A path into a list has a note of its own (`arg-path`).
      if (segments.some((s) => s.includes('*') || /^\d+$/.test(s))) continue;
      const misses = judged.map((t) => missOf(schemas.get(t.name), segments));
      const first = misses[0];
      if (first === undefined || misses.some((m) => m === undefined)) continue;
      const near = closestName(segments[first.at]!, first.declared);
      const suggestion = near === undefined ? '' : `: did you mean \`${[...segments.slice(0, first.at), near].join('.')}\`?`;
      const whose = judged.length === 1 ? `tool \`${judged[0]!.name}\`` : `any of the ${judged.length} tools \`${key}\` matches`;
      warnings.push({ code: UNKNOWN_ARGUMENT, path: formatPath(['tools', key, 'args', path]), message: `argument path \`${path}\` is not declared by ${whose}: the bound holds nothing back${suggestion}`, subject: path });
    }
  }
  return warnings;
}

const EFFECTS: readonly Effect[] = ['read', 'write', 'destructive'];

function sameTable(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/** The `tools` key whose `tier` a tool takes: its exact name first, then globs in document order (as `compileTool`). */
function tierKeyOf(doc: PolicyDocument, name: string, keys: readonly string[]): string | undefined {
  if (doc.tools[name]?.tier !== undefined) return name;
  return keys.find((k) => k !== name && doc.tools[k]?.tier !== undefined && compileGlob(k).test(name));
}

/** Where a path leaves what a schema declares: the segment's index and the keys declared there. */
interface Miss {
  readonly at: number;
  readonly declared: readonly string[];
}

/** The first segment of `segments` no branch of `schema` declares; undefined when all are, or when it cannot be judged. */
function missOf(schema: ArgumentSchema | undefined, segments: readonly string[]): Miss | undefined {
  let nodes: unknown[] = [schema];
  for (let at = 0; at < segments.length; at++) {
    const segment = segments[at]!;
    const declared = new Set<string>();
    const next: unknown[] = [];
    for (const node of nodes.flatMap((n) => branches(n, 0))) {
      const props = node.properties;
      if (props === null || typeof props !== 'object' || Array.isArray(props)) {
        // An object without named keys (a map) takes any key: not judged.
        if (node.type === 'object' || (node.additionalProperties !== undefined && node.additionalProperties !== false)) return undefined;
        continue;
      }
      for (const k of Object.keys(props)) declared.add(k);
      if (Object.prototype.hasOwnProperty.call(props, segment)) next.push((props as Record<string, unknown>)[segment]);
    }
    // No branch names keys here (a scalar, or nothing known): not judged.
    if (declared.size === 0) return undefined;
    if (next.length === 0) return { at, declared: [...declared] };
    nodes = next;
  }
  return undefined;
}

/** A schema node and its `anyOf` / `oneOf` / `allOf` branches, flattened (not deeper than a few levels). */
function branches(node: unknown, depth: number): Readonly<Record<string, unknown>>[] {
  if (node === null || typeof node !== 'object' || Array.isArray(node) || depth > 8) return [];
  const n = node as Readonly<Record<string, unknown>>;
  const out = [n];
  for (const k of ['anyOf', 'oneOf', 'allOf']) {
    const list = n[k];
    if (Array.isArray(list)) for (const b of list) out.push(...branches(b, depth + 1));
  }
  return out;
}
