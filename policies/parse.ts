/**
 * Parsing a policy document from data or text into the normalised `PolicyDocument`. Never throws:
 * every problem becomes a `PolicyIssue` naming its path, and nothing half-loads (an issue means no
 * document at all).
 */
import { parseDocument, type YAMLError } from 'yaml';
import type { ZodIssue } from 'zod';
import { DEFAULT_ALWAYS_BLOCKED, policyDocumentSchema, type PolicyDocument } from './document';

/** One problem of a policy document: a stable code, where it is, and what is wrong. */
export interface PolicyIssue {
  /** `syntax` for unreadable text, otherwise the zod issue code (`invalid_type`, `custom`, ...). */
  readonly code: string;
  /** Where, e.g. `budget.writes`, `tools["billing.summary"].args.months.max`, `transitions[2].from`. */
  readonly path: string;
  readonly message: string;
  /** The tool name or glob the issue is about, where there is one (for "did you mean"). */
  readonly subject?: string;
}

/**
 * `notes`: what is valid but likely not meant (a list that silently drops a default, a bound path into a list). Runtime
 * loading ignores them; `gatehouse policy check` refuses them.
 */
export type PolicyParseResult =
  | { readonly success: true; readonly data: PolicyDocument; readonly notes: readonly PolicyIssue[] }
  | { readonly success: false; readonly issues: readonly PolicyIssue[] };

/** Validates and normalises a policy document given as data (e.g. parsed JSON). */
export function parsePolicy(input: unknown): PolicyParseResult {
  try {
    const result = policyDocumentSchema.safeParse(input);
    if (result.success) return { success: true, data: result.data, notes: [...droppedDefaults(input), ...listArgPaths(result.data)] };
    return { success: false, issues: result.error.issues.flatMap((issue) => toIssues(issue, input)) };
  } catch (err) {
    // zod does not throw on data, but a hostile getter could; report rather than throw
    return { success: false, issues: [{ code: 'invalid', path: '', message: `cannot read the policy document: ${errorText(err)}` }] };
  }
}

/**
 * Parses YAML or JSON text (JSON when the filename ends in `.json`), then validates it. A key twice
 * in one mapping is refused in both (JSON's last-wins would hide the first), and so is a document
 * with no content (empty, only comments, `~`): a truncated file must not load as the default policy.
 */
export function parsePolicyText(text: string, filename?: string): PolicyParseResult {
  const where = filename ?? 'policy';
  if (typeof text !== 'string') return { success: false, issues: [{ code: 'syntax', path: where, message: 'expected the policy as text' }] };
  if (filename?.toLowerCase().endsWith('.json')) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      return { success: false, issues: [{ code: 'syntax', path: where, message: `invalid JSON: ${errorText(err)}` }] };
    }
    // JSON is YAML 1.2: the YAML parser finds the keys `JSON.parse` silently took the last of.
    const duplicates = parseDocument(text, { prettyErrors: true, uniqueKeys: true }).errors.filter((e) => e.code === 'DUPLICATE_KEY');
    if (duplicates.length > 0) return { success: false, issues: syntaxIssues(duplicates, where, 'JSON') };
    return parsePolicy(data);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) return { success: false, issues: syntaxIssues(doc.errors, where, 'YAML') };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { success: false, issues: [{ code: 'syntax', path: where, message: `invalid YAML: ${errorText(err)}` }] };
  }
  // `{}` is the default policy said on purpose; nothing at all is a file cut short or never written.
  if (data === null || data === undefined) return { success: false, issues: [{ code: 'syntax', path: where, message: 'the policy file is empty: write `{}` to mean the default policy' }] };
  return parsePolicy(data);
}

/** Parser errors as `syntax` issues: `invalid YAML at line 2, column 1: map keys must be unique`. */
function syntaxIssues(errors: readonly YAMLError[], where: string, language: 'YAML' | 'JSON'): PolicyIssue[] {
  return errors.map((e) => {
    const pos = e.linePos?.[0];
    const at = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
    const what = firstLine(e.message).replace(/ at line \d+, column \d+:?$/, '');
    return { code: 'syntax', path: where, message: `invalid ${language}${at}: ${lowerFirst(what)}` };
  });
}

/** Renders a path as `a.b[0]["x.y"]`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

function toIssues(issue: ZodIssue, input: unknown): PolicyIssue[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ code: issue.code, path: formatPath([...issue.path, key]), message: `unknown field \`${key}\`` }));
  }
  const path = formatPath(issue.path);
  const found = valueAt(input, issue.path);
  const needsGot = issue.code === 'invalid_type' || issue.code === 'too_small' || issue.code === 'too_big' || issue.code === 'invalid_enum_value' || issue.code === 'invalid_literal' || issue.code === 'invalid_union' || issue.code === 'not_multiple_of';
  const got = !needsGot ? '' : found.present ? `, got ${render(found.value)}` : ', got nothing';
  // An issue inside a default (e.g. the default approver rule naming `on-call` after the document
  // declared its own groups) names the default the user never wrote, not a path they cannot find.
  const defaulted = found.present || issue.path.length === 0 ? undefined : defaultedAt(input, issue.path);
  const from = defaulted ? `: from the default of \`${defaulted}\`, which the document does not set` : '';
  return [{ code: issue.code, path, message: `${issue.message}${got}${from}` }];
}

/** A bare `alwaysBlocked` list replaces the defaults: say which it drops, and how to say it on purpose. */
function droppedDefaults(input: unknown): PolicyIssue[] {
  const list = (input as { alwaysBlocked?: unknown } | null)?.alwaysBlocked;
  if (!Array.isArray(list)) return [];
  const named = new Set(list.map((e: unknown) => (typeof e === 'string' ? e : (e as { tool?: unknown } | null)?.tool)));
  const dropped = DEFAULT_ALWAYS_BLOCKED.filter((d) => !named.has(d));
  if (dropped.length === 0) return [];
  return [{
    code: 'drops-default',
    path: 'alwaysBlocked',
    message: `the list replaces the defaults and drops ${dropped.map((d) => `\`${d}\``).join(', ')}: write \`{ extends: defaults, add: [...] }\` to keep them, or \`{ extends: none, add: [...] }\` to drop them on purpose`,
  }];
}

/**
 * A bound path names object keys: a `*` or a number as a segment reads as "every item" or "item n"
 * of a list, which a bound cannot enter (the call is refused when it meets a list on the path).
 * Refused by `gatehouse policy check`; a running worker's documents keep the hash and meaning they had.
 */
function listArgPaths(doc: PolicyDocument): PolicyIssue[] {
  const out: PolicyIssue[] = [];
  for (const [tool, rule] of Object.entries(doc.tools)) {
    for (const path of Object.keys(rule.args ?? {})) {
      const seg = path.split('.').find((s) => s.includes('*') || /^\d+$/.test(s));
      if (seg === undefined) continue;
      out.push({
        code: 'arg-path',
        path: formatPath(['tools', tool, 'args', path]),
        message: `argument path \`${path}\` cannot enter a list (segment \`${seg}\`): a bound path names object keys only, and a call meeting a list on it is refused; bound the list with \`maxItems\`, or the tool's argument as a whole`,
      });
    }
  }
  return out;
}

/**
 * Where an issue's path leaves what the document wrote: the first part above the issue it does not
 * set (a default). The issue's own field missing is a required field left out, not a default.
 */
function defaultedAt(input: unknown, path: readonly (string | number)[]): string | undefined {
  for (let i = 1; i < path.length; i++) {
    if (!valueAt(input, path.slice(0, i)).present) return formatPath(path.slice(0, i));
  }
  return undefined;
}

function valueAt(input: unknown, path: readonly (string | number)[]): { present: boolean; value?: unknown } {
  let cur: unknown = input;
  for (const part of path) {
    if (cur === null || typeof cur !== 'object') return { present: false };
    const next = (cur as Record<string | number, unknown>)[part];
    if (next === undefined) return { present: false };
    cur = next;
  }
  return { present: true, value: cur };
}

function render(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/\.$/, '');
}

function lowerFirst(text: string): string {
  return text.replace(/^\w/, (c) => c.toLowerCase());
}

function errorText(err: unknown): string {
  return firstLine(err instanceof Error ? err.message : String(err)).replace(/^\w/, (c) => c.toLowerCase());
}
