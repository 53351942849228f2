/**
 * Scope rules that look at the shape of what a call names (issue 27, session 12). Pure.
 *
 * - **Identifier grammar**: an identifier's shape is its spelling with every digit as `9`
 *   (`E10211` → `e99999`, `c_88231` → `c_99999`). A call that names an identifier of the same shape
 *   as one the intent names, but not that one (`E10121` for `E10211`), names a near miss: another
 *   record of the same series. Numbers of four digits or more that are not years (`order 88213`,
 *   `#48812`, `build 6120`) are identifiers too.
 * - **Argument walking**: values in prose (a `reason`, `comment`, `body` of several words) mention
 *   things; only reference values (ids, names, numbers) say what the call acts on. The agent writes
 *   the prose, so prose never lifts a score, earns the match floor or excuses a near miss.
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
  // A phone number is one number however it is spaced: `+1 415 555 0142` is 14155550142.
  const toks = text.toLowerCase().replace(PHONE, (m) => m.replace(/\D/g, '')).split(/[\s,;()"'`[\]{}<>=|]+/);
  const out = new Set<string>();
  toks.forEach((raw, k) => {
    const m = /^#?(\d{4,})[.:!?]?$/.exec(raw);
    if (!m || YEAR.test(m[1]!) || UNIT_AFTER.test(toks[k + 1] ?? '')) return;
    out.add(m[1]!);
  });
  return [...out];
}

const PHONE = /\+\d[\d\s().-]{6,}\d/g;

/** Tickets a text names (`DSR-9120`, `CHG-4471`): lower case. A call on another of the same series is a near miss. */
export function ticketsIn(text: string): string[] {
  return [...new Set((text.toLowerCase().match(/\b[a-z]{2,9}-\d{3,}\b/g) ?? []))];
}

/**
 * Whether two values look alike: the same length, differing in at most a third of their characters
 * (two at least) — a typo or a transposed pair (`E10121` for `E10211`, `RE3f11a1f7` for `RE3f11a09c`).
 */
export function lookAlike(a: string, b: string): boolean {
  if (a.length !== b.length || a === b) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff++;
  return diff <= Math.max(2, Math.floor(a.length / 3));
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
 * The intent's identifiers (its own, its numbers, its tickets) that the call misses narrowly: the
 * call's reference values carry a token of the same shape or one that looks alike (with a digit in
 * it) and none carries the identifier itself. Prose does not count: an agent's reason that names the
 * intent's own cannot excuse acting on its neighbour. Empty when the call names them or nothing like
 * them. `reading`: the call only reads, and reads of related records (the purchase order of the
 * invoice asked about) are how an agent finds its way: only a look-alike is a near miss.
 */
export function nearMisses(intentIds: readonly string[], refs: readonly string[], reading = false): { intended: string; named: string }[] {
  const out: { intended: string; named: string }[] = [];
  const tokens = refs.flatMap((r) => tokensOf(r.toLowerCase()));
  const everything = refs.join(' ').toLowerCase();
  for (const id of intentIds) {
    if (!/\d/.test(id)) continue;
    if (containsWhole(everything, id)) continue;
    const shape = shapeOf(id);
    const near = tokens.find((t) => t !== id && /\d/.test(t) && (lookAlike(t, id) || (!reading && shapeOf(t) === shape)));
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

const SHARE_KEY = /(percent|pct|fraction|weight|split|traffic|rollout|rate|ratio|share|sample)/;

/** Percentages an intent asks for (`to 10%`, `5% canary`, `at 50 %`), as numbers. */
export function percentsIn(intent: string): number[] {
  return [...intent.matchAll(/(\d+(?:\.\d+)?)\s?(%|percent\b)/gi)].map((m) => Number(m[1]));
}

/**
 * Shares under keys named for one (`trafficPercent`, `userFraction`, `split: {v15: 5}`), each as
 * given and as a percentage of its siblings' sum (`weights: {true: 25000, false: 75000}` is 25).
 */
export function sharesIn(args: unknown, depth = 0, path = ''): number[] {
  if (depth > 4 || args === null || args === undefined || typeof args !== 'object') return [];
  const entries: [string, unknown][] = Array.isArray(args) ? args.map((v) => [path, v]) : Object.entries(args as Record<string, unknown>).map(([k, v]) => [`${path}.${k.toLowerCase()}`, v]);
  const numbers = entries.filter(([, v]) => typeof v === 'number') as [string, number][];
  const sum = numbers.reduce((a, [, v]) => a + v, 0);
  const out: number[] = [];
  for (const [k, v] of numbers) if (SHARE_KEY.test(k)) out.push(v, ...(numbers.length > 1 && sum > 0 ? [(100 * v) / sum] : []));
  for (const [k, v] of entries) if (typeof v === 'object') out.push(...sharesIn(v, depth + 1, k));
  return out;
}

/**
 * Whether the call sets a share the intent did not ask for: the intent names percentages, the call
 * carries numbers under share keys, and none is one of them (as a percentage or a fraction).
 */
export function wrongShare(intentPercents: readonly number[], args: unknown): number | null {
  if (intentPercents.length === 0) return null;
  const shares = sharesIn(args);
  if (shares.length === 0) return null;
  const close = (a: number, b: number) => Math.abs(a - b) < 1e-6;
  const ok = shares.some((s) => intentPercents.some((p) => close(s, p) || close(s, p / 100)));
  return ok ? null : shares[0]!;
}

/** Region names (a closed list, like environments): what they say in ids, hosts and pools. */
const REGIONS: ReadonlyMap<string, string> = new Map(
  [
    ['eu', 'eu europe emea euw euc'],
    ['us', 'us usa useast uswest amer na'],
    ['apac', 'apac asia ap apj'],
    ['uk', 'uk gb'],
    ['latam', 'latam sa'],
  ].flatMap(([canon, spellings]) => spellings!.split(' ').map((s) => [s, canon!] as const)),
);

/**
 * The regions an intent asks for: region words (`EU`, `us-east`, `apac`), minus those it sets aside
 * (`eu is fine`, `not apac`, `except uk`). `us` counts only written `US` or as `us-east`/`us-west`,
 * since "us" is also a word.
 */
export function intentRegions(intent: string): Set<string> {
  const out = new Set<string>();
  const aside = new Set<string>();
  const toks = intent.split(/[^A-Za-z0-9-]+/).filter((t) => t.length > 0);
  toks.forEach((raw, k) => {
    const t = raw.toLowerCase();
    const head = t.split('-')[0]!;
    let region: string | undefined;
    if (head === 'us') region = raw.startsWith('US') || /^us-(east|west|central|north|south)/.test(t) ? 'us' : undefined;
    else if (head !== 'na' && head !== 'sa' && head !== 'ap' && head !== 'gb') region = REGIONS.get(head);
    if (!region) return;
    const before = (toks[k - 1] ?? '').toLowerCase();
    const after = `${toks[k + 1] ?? ''} ${toks[k + 2] ?? ''}`.toLowerCase();
    if (/^(not|except|excluding|but|without|skip)$/.test(before) || /^(is|are) (fine|ok|okay|good|untouched|excluded)$/.test(after)) aside.add(region);
    else out.add(region);
  });
  aside.forEach((r) => out.delete(r));
  return out;
}

/** The regions a call's reference values name: region parts of ids and hosts (`web-pool-us`, `origin-2.us.acme.io`, `eu-west-1`). */
export function callRegions(refs: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const v of refs) {
    for (const part of v.toLowerCase().split(/[^a-z0-9]+/)) {
      const region = REGIONS.get(part);
      if (region) out.add(region);
    }
  }
  return out;
}

/**
 * A glob in a value the call selects by (`index: logs-app-2025.0*`, `query: tags:x-06*`) where the
 * intent writes none itself: wider than asked. A value under a key named for a pattern or rule
 * (`tagPattern`) defines a rule; it selects nothing now.
 */
export function widerGlob(args: unknown, depth = 0, key = ''): string | null {
  if (depth > 4 || args === null || args === undefined) return null;
  if (typeof args === 'string') return !/(pattern|regex|rule|match)/.test(key) && /[a-z0-9][*]|[*][a-z0-9.-]/i.test(args) && !isProse(args) ? args : null;
  if (typeof args !== 'object') return null;
  const entries: [string, unknown][] = Array.isArray(args) ? args.map((v) => [key, v]) : Object.entries(args as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]);
  for (const [k, v] of entries) {
    const g = widerGlob(v, depth + 1, k);
    if (g !== null) return g;
  }
  return null;
}

/**
 * Names of the same family: the same number of parts (at `-`, `_`, `.`), two or more, with exactly
 * one part different (a plural is the same part): `email-send-dlq` and `sms-send-dlq`,
 * `sfdc_accounts_sync` and `sfdc_opportunities_sync`. Such a call names a sibling of the intent's name.
 */
export function siblingOf(intentName: string, callName: string): boolean {
  const a = intentName.toLowerCase().split(/[-_.]/);
  const b = callName.toLowerCase().split(/[-_.]/);
  if (a.length < 2 || a.length !== b.length) return false;
  const same = (x: string, y: string) => x === y || x.replace(/s$/, '') === y.replace(/s$/, '');
  let differ = 0;
  for (let k = 0; k < a.length; k++) if (!same(a[k]!, b[k]!)) differ++;
  return differ === 1;
}

/**
 * Names the intent names (`email-send-dlq`) of which the call carries only a sibling, never the name
 * itself. A sibling in `asked` (what the intent names too: `#team-lifecycle` in "rename #team-growth
 * to #team-lifecycle") is no miss.
 */
export function siblingMisses(intentNames: readonly string[], refs: readonly string[], asked: readonly string[] = []): { intended: string; named: string }[] {
  const out: { intended: string; named: string }[] = [];
  const tokens = refs.flatMap((r) => r.toLowerCase().split(/[\s,;()"'`[\]{}<>=|/:@]+/)).filter((t) => t.length > 0);
  const everything = refs.join(' ').toLowerCase();
  for (const name of intentNames) {
    if (containsWhole(everything, name) || tokens.some((t) => siblingOf(name, t) && (t.includes(name) || name.includes(t)))) continue;
    const near = tokens.find((t) => siblingOf(name, t) && !asked.includes(t));
    if (near !== undefined) out.push({ intended: name, named: near });
  }
  return out;
}

const IPV4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,2}))?$/;

/** The IPv4 addresses and ranges a text names (`198.51.100.24`, `10.0.0.0/8`). */
export function addressesIn(text: string): string[] {
  return text.split(/[\s,;()"'`[\]{}<>=|]+/).map((t) => t.replace(/[.:]+$/, '')).filter((t) => IPV4.test(t));
}

/** An address the intent names (not a range) that the call widens to a range or replaces: `198.51.100.24` → `198.51.100.0/24`. */
export function widerAddress(intentAddresses: readonly string[], refs: readonly string[]): string | null {
  const wanted = intentAddresses.map((i) => IPV4.exec(i)).filter((m) => m && (m[2] === undefined || m[2] === '32')).map((m) => m![1]!);
  if (wanted.length === 0) return null;
  // A port does not make another host the same one: `10.20.4.71:8443` for `10.20.4.17`.
  const called = refs.map((r) => IPV4.exec(r.trim().replace(/:\d{1,5}$/, ''))).filter((m): m is RegExpExecArray => m !== null);
  if (called.length === 0) return null;
  const exact = called.some((m) => wanted.includes(m[1]!) && (m[2] === undefined || m[2] === '32'));
  return exact ? null : called[0]![0];
}

/**
 * A selector wider than the path or key the intent names: a call's value that is a strict prefix of
 * it and ends open, at a separator or a glob (`media/` for `media/thumbs/2023/`, `/docs/*` for
 * `/docs/v2/*`, `price:sku:88120*` for `price:sku:88120-B`). Paths and keys only (`/` or `:` inside),
 * and only a value that ends open: `acme` for `acme/docs` is the owner beside its repository.
 */
export function widerPrefix(intentIds: readonly string[], refs: readonly string[]): { intended: string; named: string } | null {
  const paths = intentIds.filter((i) => /[a-z0-9][/:][a-z0-9*]/.test(i) && !/^[a-z]+:\/\//.test(i) && !i.startsWith('arn:'));
  if (paths.length === 0) return null;
  const everything = refs.join(' ').toLowerCase();
  const tokens = refs.flatMap((r) => r.toLowerCase().split(/[\s,;()"'`[\]{}<>=|]+/));
  for (const path of paths) {
    const want = path.replace(/\*+$/, '').replace(/^\/+/, '');
    if (everything.includes(want)) continue;
    for (const t of tokens) {
      const bare = t.replace(/\*+$/, '').replace(/^\/+/, '');
      if (bare.length < 2 || bare === want || !want.startsWith(bare)) continue;
      if (t.endsWith('*') || /[/:]$/.test(bare)) return { intended: path, named: t };
    }
  }
  return null;
}
