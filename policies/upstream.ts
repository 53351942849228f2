/**
 * Classification of third-party MCP tools by the policy, never by the server.
 *
 * A tool of an upstream MCP server (`ToolInfo.upstream` set) gets its effect, environment and
 * resource from the policy's `upstreamTools` section (the exact name first, then the first
 * matching glob in document order). The server's annotations are hints that may only make it
 * stricter: `destructiveHint: true` raises it to `destructive`, `readOnlyHint: false` to at least
 * `write`; `readOnlyHint: true` never lowers anything. A tool no entry matches is left out of
 * the compiled catalog, so the evaluator denies it as an unknown tool.
 *
 * Pure: runs inside `compilePolicy`, so every session (and every replay) classifies its upstream
 * tools with its own policy snapshot.
 */
import { compileGlob } from './glob';
import type { PolicyDocument, UpstreamRule } from './document';
import type { Effect, ToolInfo, UpstreamHints } from './types';
import { serverSubjects, subjectKindOf, type ServerSubjects, type SubjectKind } from './upstream-subjects';

/** Effects from least to most dangerous. */
const EFFECT_ORDER: readonly Effect[] = ['read', 'write', 'destructive'];

/** How the policy classified one upstream tool. */
export interface UpstreamClassification {
  readonly effect: Effect;
  readonly environment: string;
  readonly resource: string;
  /** True when the policy says running the call twice equals once (only then is it retried). */
  readonly idempotent: boolean;
  /** The `upstreamTools` key that matched. */
  readonly rule: string;
  /** The annotation that made the tool stricter than the policy's effect, if any. */
  readonly raisedBy?: 'destructiveHint' | 'readOnlyHint';
  /** The read tool that estimates a call's blast radius (checked by `classifyCatalog`). */
  readonly estimate?: UpstreamRule['estimate'];
  /** For a server's `resources/read`, `prompts/get` or `completion/complete`: what each call is checked against. */
  readonly subject?: { readonly kind: SubjectKind; readonly server: string } & ServerSubjects;
}

/** The call that estimates a proposal's blast radius, its arguments resolved from the proposal's. */
export interface EstimateRequest {
  readonly tool: string;
  readonly args: Readonly<Record<string, unknown>>;
  /** Where the count is in the result's structured content (a number, or a list whose length counts). */
  readonly count?: string;
}

/** The result of classifying a catalog: what the policy knows, and what it leaves unknown. */
export interface ClassifiedCatalog {
  /** Built-in tools unchanged, then classified upstream tools with their policy effect, in catalog order. */
  readonly tools: readonly ToolInfo[];
  /** Classification of each known upstream tool, by name. */
  readonly upstream: ReadonlyMap<string, UpstreamClassification>;
  /** Upstream tools no `upstreamTools` entry matches: unknown, hence denied. */
  readonly unclassified: readonly string[];
  /** Estimators the policy names that cannot be used (not a `read` tool of the same server): ignored. */
  readonly problems: readonly { readonly tool: string; readonly message: string }[];
}

/** The stricter of two effects. */
export function stricterEffect(a: Effect, b: Effect): Effect {
  return EFFECT_ORDER.indexOf(a) >= EFFECT_ORDER.indexOf(b) ? a : b;
}

/** The least effect a tool's annotations allow (`read` when they say nothing stricter). */
export function hintFloor(hints: Pick<UpstreamHints, 'readOnlyHint' | 'destructiveHint'>): { readonly effect: Effect; readonly by?: 'destructiveHint' | 'readOnlyHint' } {
  if (hints.destructiveHint === true) return { effect: 'destructive', by: 'destructiveHint' };
  if (hints.readOnlyHint === false) return { effect: 'write', by: 'readOnlyHint' };
  return { effect: 'read' };
}

/** The `upstreamTools` entry for a name: the exact key, else the first matching glob in document order. */
export function upstreamRuleFor(doc: PolicyDocument, name: string): { readonly key: string; readonly rule: UpstreamRule } | undefined {
  const rules = doc.upstreamTools ?? {};
  const exact = rules[name];
  if (exact) return { key: name, rule: exact };
  for (const [key, rule] of Object.entries(rules)) {
    if (compileGlob(key).test(name)) return { key, rule };
  }
  return undefined;
}

/** Classifies one upstream tool; `undefined` when the policy does not classify it. */
export function classifyUpstreamTool(doc: PolicyDocument, name: string, hints: Pick<UpstreamHints, 'server' | 'readOnlyHint' | 'destructiveHint'> & { readonly tool?: string }): UpstreamClassification | undefined {
  const kind = hints.tool === undefined ? undefined : subjectKindOf(hints.tool);
  if (kind !== undefined) return classifySubjectTool(doc, kind, hints.server);
  const found = upstreamRuleFor(doc, name);
  if (!found) return undefined;
  const floor = hintFloor(hints);
  const effect = stricterEffect(found.rule.effect, floor.effect);
  const raised = effect !== found.rule.effect && floor.by !== undefined;
  return {
    effect,
    environment: found.rule.environment,
    resource: found.rule.resource ?? hints.server,
    idempotent: found.rule.idempotent,
    rule: found.key,
    ...(raised ? { raisedBy: floor.by } : {}),
    ...(found.rule.estimate ? { estimate: found.rule.estimate } : {}),
  };
}

/**
 * A server's synthetic tool (reading a resource, getting a prompt, completing an argument) is a
 * `read`, classified when the policy names any resource or prompt of the server (a completion:
 * either); `upstreamTools` globs never classify it. Which URI or prompt a call may name is checked
 * per call (`subjectRefusal`).
 */
function classifySubjectTool(doc: PolicyDocument, kind: SubjectKind, server: string): UpstreamClassification | undefined {
  const s = serverSubjects(doc, server);
  const named = kind === 'resource' ? s.resources.length > 0 : kind === 'prompt' ? s.prompts.length > 0 : s.resources.length + s.prompts.length > 0;
  if (!named) return undefined;
  const rule = kind === 'prompt' ? `upstreamPrompts.${server}` : kind === 'resource' ? `upstreamResources.${server}` : `upstreamResources.${server}|upstreamPrompts.${server}`;
  return { effect: 'read', environment: 'production', resource: server, idempotent: true, rule, subject: { kind, server, ...s } };
}

/** Classifies every upstream tool of a catalog; built-in tools pass through unchanged. */
export function classifyCatalog(doc: PolicyDocument, tools: readonly ToolInfo[]): ClassifiedCatalog {
  const out: ToolInfo[] = [];
  const upstream = new Map<string, UpstreamClassification>();
  const unclassified: string[] = [];
  const problems: { tool: string; message: string }[] = [];
  for (const info of tools) {
    if (!info.upstream) {
      out.push(info);
      continue;
    }
    const c = classifyUpstreamTool(doc, info.name, info.upstream);
    if (!c) {
      unclassified.push(info.name);
      continue;
    }
    upstream.set(info.name, c);
    out.push({ ...info, effect: c.effect, environment: c.environment, resource: c.resource });
  }
  // Estimators: only a tool of the same server that this policy classifies as `read` may run before the decision.
  for (let i = 0; i < out.length; i++) {
    const info = out[i]!;
    const c = upstream.get(info.name);
    if (!c?.estimate) continue;
    const estimator = upstream.get(c.estimate.tool);
    const sameServer = tools.find((t) => t.name === c.estimate!.tool)?.upstream?.server === info.upstream?.server;
    if (!estimator || estimator.effect !== 'read' || !sameServer) {
      problems.push({ tool: info.name, message: `estimator \`${c.estimate.tool}\` of \`${info.name}\` is not a read tool of the same server classified by the policy: no estimate is made` });
      const { estimate: _unused, ...rest } = c;
      upstream.set(info.name, rest);
      continue;
    }
    out[i] = { ...info, estimatesBlastRadius: true };
  }
  return { tools: out, upstream, unclassified, problems };
}

/** Reads a dotted path (`filter.ids`, `items.0`) of a value. */
export function valueAtPath(value: unknown, path: string): unknown {
  let v = value;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/**
 * The estimator call for a proposal of a classified upstream tool, or `undefined` when the policy
 * names none. `"$args.<path>"` values are replaced by the proposal's argument at that path.
 */
export function estimateRequest(c: UpstreamClassification | undefined, args: Readonly<Record<string, unknown>>): EstimateRequest | undefined {
  if (!c?.estimate) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(c.estimate.args)) {
    out[key] = typeof value === 'string' && value.startsWith('$args.') ? valueAtPath(args, value.slice('$args.'.length)) : value;
  }
  return { tool: c.estimate.tool, args: out, ...(c.estimate.count !== undefined ? { count: c.estimate.count } : {}) };
}
