/**
 * What a policy lets an agent read of an upstream MCP server besides its tools: its resources (by
 * anchored URI pattern) and its prompts (by name or glob), per server, in `upstreamResources` and
 * `upstreamPrompts`. The worker gives each server with resources or prompts three catalog tools of
 * its own — `<server>.resources/read`, `<server>.prompts/get`, `<server>.completion/complete` (a `/`
 * no upstream tool name holds) — and a read of a resource is a proposal of the first: a `read`,
 * decided in the session's workflow and audited like any call. The per-call check (is this URI,
 * this prompt, classified?) is here, applied by `evaluate`.
 *
 * URI patterns are anchored (the whole URI must match): `*` matches a run of characters other than
 * `/`, `?` and `#`; `**` matches any run; every other character is itself. A URI with a dot
 * segment (`.`, `..`), a percent-encoded `.`, `/`, `\` or `%`, a backslash, whitespace or a control
 * character matches no pattern: what such a URI names depends on how the server decodes it.
 *
 * Pure: imports nothing of the project.
 */
import { compileGlob } from './glob';
import { UNSAFE_URI } from './unsafe-text';

/** The upstream method behind each kind of synthetic tool (the tool's name on its server). */
export const SUBJECT_METHODS = { resource: 'resources/read', prompt: 'prompts/get', completion: 'completion/complete' } as const;
export type SubjectKind = keyof typeof SUBJECT_METHODS;

/** The kind of a synthetic tool, from its name on the server; undefined for an upstream's own tool. */
export function subjectKindOf(upstreamTool: string): SubjectKind | undefined {
  for (const [kind, method] of Object.entries(SUBJECT_METHODS)) if (method === upstreamTool) return kind as SubjectKind;
  return undefined;
}

/** The patterns a policy gives one server (empty lists: nothing of that kind is classified). */
export interface ServerSubjects {
  readonly resources: readonly string[];
  readonly prompts: readonly string[];
}

/** What `upstreamResources` and `upstreamPrompts` say of one server. */
export function serverSubjects(doc: { readonly upstreamResources?: Readonly<Record<string, readonly string[]>>; readonly upstreamPrompts?: Readonly<Record<string, readonly string[]>> }, server: string): ServerSubjects {
  const own = (m: Readonly<Record<string, readonly string[]>> | undefined) => (m && Object.prototype.hasOwnProperty.call(m, server) ? (m[server] ?? []) : []);
  return { resources: own(doc.upstreamResources), prompts: own(doc.upstreamPrompts) };
}

/** Longest URI ever matched. */
const MAX_URI = 2048;

/** Why a URI is never matched, or undefined when it may be. */
export function uriProblem(uri: string): string | undefined {
  if (uri.length === 0) return 'is empty';
  if (uri.length > MAX_URI) return `is longer than ${MAX_URI} characters`;
  if (UNSAFE_URI.test(uri)) return 'holds a dot segment, an encoded `.`, `/`, `\\` or `%`, a backslash, whitespace or a control character';
  return undefined;
}

const compiledUris = new Map<string, RegExp>();

/** Compiles an anchored URI pattern (cached; a pure function of the pattern). */
export function compileUriPattern(pattern: string): RegExp {
  let re = compiledUris.get(pattern);
  if (re === undefined) {
    let body = '';
    for (let i = 0; i < pattern.length; i++) {
      const ch = pattern[i]!;
      if (ch === '*' && pattern[i + 1] === '*') {
        body += '.*';
        i++;
      } else if (ch === '*') body += '[^/?#]*';
      else body += ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    }
    re = new RegExp(`^${body}$`, 's');
    if (compiledUris.size >= 1_000) compiledUris.clear();
    compiledUris.set(pattern, re);
  }
  return re;
}

/** The first pattern of the list that classifies a URI, or undefined (an unsafe URI matches none). */
export function resourcePatternFor(patterns: readonly string[], uri: string): string | undefined {
  if (uriProblem(uri) !== undefined) return undefined;
  return patterns.find((p) => compileUriPattern(p).test(uri));
}

/** The first name or glob of the list that classifies a prompt, or undefined. */
export function promptPatternFor(patterns: readonly string[], name: string): string | undefined {
  if (name.length === 0 || name.length > 256) return undefined;
  return patterns.find((p) => compileGlob(p).test(name));
}

/** A refusal of one call of a synthetic tool: its rule and message. */
export interface SubjectRefusal {
  readonly rule: 'resource.unclassified' | 'prompt.unclassified';
  readonly message: string;
}

/**
 * Checks the subject of one call of a synthetic tool against the server's patterns: the URI of a
 * `resources/read`, the name of a `prompts/get`, the `ref` of a `completion/complete`.
 */
export function subjectRefusal(kind: SubjectKind, server: string, s: ServerSubjects, args: Readonly<Record<string, unknown>>): SubjectRefusal | undefined {
  const resource = (uri: unknown, what: string): SubjectRefusal | undefined => {
    if (typeof uri !== 'string') return { rule: 'resource.unclassified', message: `${what} must be a URI string` };
    const problem = uriProblem(uri);
    if (problem) return { rule: 'resource.unclassified', message: `resource \`${show(uri)}\` of \`${server}\` is refused: it ${problem}` };
    if (!resourcePatternFor(s.resources, uri)) return { rule: 'resource.unclassified', message: `resource \`${show(uri)}\` of \`${server}\` is not classified by the policy (\`upstreamResources.${server}\`): it is unknown and denied` };
    return undefined;
  };
  const prompt = (name: unknown): SubjectRefusal | undefined => {
    if (typeof name !== 'string') return { rule: 'prompt.unclassified', message: 'the prompt name must be a string' };
    if (!promptPatternFor(s.prompts, name)) return { rule: 'prompt.unclassified', message: `prompt \`${show(name)}\` of \`${server}\` is not classified by the policy (\`upstreamPrompts.${server}\`): it is unknown and denied` };
    return undefined;
  };
  if (kind === 'resource') return resource(args.uri, '`uri`');
  if (kind === 'prompt') return prompt(args.name);
  const ref = args.ref as Record<string, unknown> | undefined;
  if (ref?.type === 'ref/prompt') return prompt(ref.name);
  if (ref?.type === 'ref/resource') return resource(ref.uri, 'the reference `uri`');
  return { rule: 'resource.unclassified', message: 'a completion must name a prompt (`ref/prompt`) or a resource template (`ref/resource`)' };
}

function show(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
