/**
 * Scope rules that look at the shape of what a call names (issue 27, session 12). Pure.
 *
 * - **Identifier grammar**: an identifier's shape is its spelling with every digit as `9`
 *   (`E10211` → `e99999`, `c_88231` → `c_99999`). A call that names an identifier of the same shape
 *   as one the intent names, but not that one (`E10121` for `E10211`), names a near miss: another
 *   record of the same series. Numbers of four digits or more that are not years (`order 88213`,
 *   `#48812`, `build 6120`) are identifiers too.
 * - **Argument walking**: values in prose (a `reason`, `comment`, `body` of several words) mention
 *   things; only reference values (ids, names, numbers) say what the call acts on.
 * - **Access tiers**: an intent that asks for read-only access (`view only`, `pull-only`) is out of
 *   scope of a call that grants more (`edit`, `push`, `admin`).
 * - **Effect by statement**: a SQL statement in the arguments says what the call does (`select` reads).
 */
import type { Effect } from './types';

/** An identifier's shape: lower case, each digit as `9`. */
export function shapeOf(value: string): string {
  return value.toLowerCase().replace(/\d/g, '9');
}

const YEAR = /^(19|20)\d\d$/;
const UNIT_AFTER = /^(%|percent|days?|hours?|hrs?|min(ute)?s?|secs?|seconds?|weeks?|months?|years?|gb|mb|tb|kb|ms|seats?|users?|rows?|times|replicas?|pods?|nodes?|instances?|items?|records?|requests?|rps|qps|eur|usd|gbp)$/;

/**
 * Numbers a text names as identifiers: four digits or more, alone or after `#`, not a year and not
 * followed by a unit (`1500 rows`, `2000 ms` are quantities). Thousands separators make quantities.
 */
export function numbersIn(text: string): string[] {
  const toks = text.toLowerCase().split(/[\s,;()"'`[\]{}<>=|]+/);
  const out = new Set<string>();
  toks.forEach((raw, k) => {
    const m = /^#?(\d{4,})[.:!?]?$/.exec(raw);
    if (!m || YEAR.test(m[1]!) || UNIT_AFTER.test(toks[k + 1] ?? '')) return;
    out.add(m[1]!);
  });
  return [...out];
}

/** A string value written as prose: three words or more. It mentions things; it does not select them. */
export function isProse(value: string): boolean {
  return value.trim().split(/\s+/).length >= 3;
}

/** The call's reference values (strings that are not prose, integers as digits) and its prose values, a few levels deep. */
export function walkArgs(args: unknown, out: { refs: string[]; prose: string[] } = { refs: [], prose: [] }, depth = 0): { refs: string[]; prose: string[] } {
  if (depth > 4 || args === null || args === undefined) return out;
  if (typeof args === 'string') {
    if (args.length <= 400) (isProse(args) ? out.prose : out.refs).push(args);
  } else if (typeof args === 'number' && Number.isInteger(args) && args >= 0) out.refs.push(String(args));
  else if (Array.isArray(args)) args.forEach((v) => walkArgs(v, out, depth + 1));
  else if (typeof args === 'object') Object.values(args as Record<string, unknown>).forEach((v) => walkArgs(v, out, depth + 1));
  return out;
}

/** The runs of digits and the tokens (split at spaces and `"'=,;()[]{}<>|`) of a value. */
function tokensOf(value: string): string[] {
  return value.split(/[\s,;()"'`[\]{}<>=|]+/).map((t) => t.replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')).filter((t) => t.length > 0);
}

/**
 * The intent's identifiers (its own and its numbers) that the call misses narrowly: the call's
 * reference values carry a token of the same shape (with a digit in it) and none carries the
 * identifier itself, in any value (prose included). Empty when the call names them or nothing like them.
 */
export function nearMisses(intentIds: readonly string[], refs: readonly string[], prose: readonly string[]): { intended: string; named: string }[] {
  const out: { intended: string; named: string }[] = [];
  const tokens = refs.flatMap((r) => tokensOf(r.toLowerCase()));
  const everything = [...refs, ...prose].join(' ').toLowerCase();
  for (const id of intentIds) {
    if (!/\d/.test(id)) continue;
    if (containsWhole(everything, id)) continue;
    const shape = shapeOf(id);
    const near = tokens.find((t) => t !== id && shapeOf(t) === shape);
    if (near !== undefined) out.push({ intended: id, named: near });
  }
  return out;
}

/** Whether `id` occurs in `text` as a whole token or run of digits: not inside a longer word or number. */
export function containsWhole(text: string, id: string): boolean {
  let at = text.indexOf(id);
  while (at >= 0) {
    const before = text[at - 1] ?? '';
    const after = text[at + id.length] ?? '';
    // A number is a run of digits (`bld_6120_a8f2` names 6120); anything else a whole token.
    const edge = (c: string) => c === '' || !(/^\d+$/.test(id) ? /\d/ : /[a-z0-9]/).test(c);
    if (edge(before) && edge(after)) return true;
    at = text.indexOf(id, at + 1);
  }
  return false;
}

/** Access tiers a grant can name, weakest first. */
const TIERS: readonly (readonly string[])[] = [
  ['read', 'view', 'viewer', 'reader', 'pull', 'readonly', 'read-only', 'read_only', 'list', 'get', 'browse', 'guest'],
  ['write', 'edit', 'editor', 'push', 'contributor', 'developer', 'maintainer', 'write-access', 'member', 'publish', 'readwrite', 'read-write', 'read_write'],
  ['admin', 'administrator', 'owner', 'manage', 'manager', 'full', 'full-access', 'fullaccess', 'superuser', 'root', '*'],
];
const ACCESS_KEY = /(permission|role|access|action|level|privilege|scope|grant|capabilit|right|mode)/;
const READ_ONLY_INTENT = /\b(read|view|pull)[\s-]?only\b|\bviewers?\b|\bview[\s-]access\b|\bread[\s-]access\b/;

/** The strongest access a call's arguments grant (0 read, 1 write, 2 admin), from keys named for access; null when none. */
export function grantedTier(args: unknown, depth = 0, key = ''): number | null {
  if (depth > 4 || args === null || args === undefined) return null;
  if (typeof args === 'string') {
    if (!ACCESS_KEY.test(key)) return null;
    const v = args.toLowerCase().trim();
    const tier = TIERS.findIndex((t) => t.includes(v) || t.includes(v.split(/[:/]/).pop()!));
    return tier < 0 ? null : tier;
  }
  let best: number | null = null;
  const take = (t: number | null) => {
    if (t !== null && (best === null || t > best)) best = t;
  };
  if (Array.isArray(args)) args.forEach((v) => take(grantedTier(v, depth + 1, key)));
  else if (typeof args === 'object') for (const [k, v] of Object.entries(args as Record<string, unknown>)) take(grantedTier(v, depth + 1, k.toLowerCase()));
  return best;
}

/** Whether an intent limits the access it asks for to reading (`view only`, `pull-only`, `read-only access`, `viewer`). */
export function intentWantsReadAccess(intent: string): boolean {
  return READ_ONLY_INTENT.test(intent.toLowerCase());
}

/** A SQL statement by its grammar, not a word: `select … from`, `delete from`, `drop table` (a name like `drop-healthchecks` or a privilege `SELECT` is none). */
const STATEMENTS: readonly (readonly [RegExp, Effect])[] = [
  [/^\s*(delete\s+from|truncate(\s+table)?\s+\S|drop\s+(table|view|index|schema|database|user|role)\s)/i, 'destructive'],
  [/^\s*(insert\s+into|update\s+\S+\s+set\s|merge\s+into|alter\s+(table|view|index|schema|database|user|role)\s|create\s+(or\s+replace\s+)?(table|view|index|schema|database|user|role)\s|grant\s+\S+.*\bto\s|revoke\s+\S+.*\bfrom\s)/i, 'write'],
  [/^\s*(select\s+[\s\S]+\sfrom\s|select\s+\d|show\s+\S|explain\s+\S|describe\s+\S|with\s+\S+\s+as\s*\()/i, 'read'],
];

/**
 * The effect a SQL statement in the arguments states: `select` reads, `insert`/`update` write,
 * `delete`/`drop`/`truncate` destroy (the strongest statement wins); null when no argument is one.
 */
export function statementEffect(args: unknown): Effect | null {
  let best: Effect | null = null;
  const rank = { read: 0, write: 1, destructive: 2 } as const;
  const { refs, prose } = walkArgs(args);
  for (const v of [...refs, ...prose]) {
    const found = STATEMENTS.find(([re]) => re.test(v));
    if (!found) continue;
    // A select that writes its rows somewhere (`select … into`), or a `with` whose last part changes, is no read.
    let e = found[1];
    if (e === 'read') e = /\b(delete\s+from|truncate|drop\s+table)\b/i.test(v) ? 'destructive' : /\b(into|insert|update\s+\S+\s+set)\b/i.test(v) ? 'write' : 'read';
    if (best === null || rank[e] > rank[best]) best = e;
  }
  return best;
}
