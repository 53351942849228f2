/**
 * The identifiers an intent names and a call carries, by kind, and when they agree. Pure.
 *
 * An identifier contradicts the intent only against one of its own kind: a call that names another
 * domain than the intent's, another path, another `cus_…` id or another dotted name is out of scope;
 * a call that carries an instance id where the intent names a host tag says nothing either way. A
 * ticket the intent cites (`FINOPS-42`), a time or a quantity (`9am`, `20th`, `40min`) is not a
 * resource. A value the intent names after its noun ("customer 42", "branch feat/x") must be the
 * value of an argument named for that noun (`customerId`, `branch`) when the call has one.
 */

/** `domain`: dotted with a final alphabetic label; `typed`: a short type prefix then an id (`i-0a1b`, `cus_T0ny`, `sg-01`). */
export type IdentifierKind = 'email' | 'domain' | 'ip' | 'path' | `typed:${string}` | 'name';

export interface Identifier {
  readonly value: string;
  readonly kind: IdentifierKind;
}

const VERSION = /^v?\d+(\.\d+)+$/;
const REGION = /^[a-z]{2}-[a-z]+-\d$/;
const TICKET = /^[A-Z][A-Z0-9]{1,9}-\d+$/;
const QUANTITY = /^\d+(st|nd|rd|th|am|pm|ms|s|m|h|d|w|k|x|min|mins|hrs?|gb|mb|tb|kb|gib|mib|rps|qps)$/;
const TIME = /^\d{1,2}:\d{2}(:\d{2})?$/;
const DOMAIN = /^(\*\.)?([a-z0-9-]+\.)+[a-z]{2,}$/;
const IP = /^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/;
const TYPED = /^([a-z]{1,4})[-_]([a-z0-9]*\d[a-z0-9]*)([-_.][a-z0-9._-]*)?$/;
/** Hyphenated words of English, not names of anything. */
const WORDS = new Set(['heads-up', 'on-call', 'follow-up', 'read-only', 're-enroll', 'e-mail', 'opt-in', 'opt-out', 'roll-out', 'set-up', 'log-in', 'sign-in', 'check-in', 'built-in', 'add-on', 'one-off', 'long-running', 'right-size', 'up-to-date', 'end-to-end', 'self-serve', 'third-party', 'last-minute', 'kill-switch', 'all-hands']);

/** Canonical environment spellings are not identifiers either; the caller passes its table. */
export function identifiersIn(text: string, isEnvironment: (w: string) => boolean): Identifier[] {
  const out = new Map<string, Identifier>();
  for (const raw of text.split(/[\s,;()"'`\[\]{}<>=|]+/)) {
    const original = raw.replace(/^[^A-Za-z0-9*]+|[^A-Za-z0-9]+$/g, '');
    if (TICKET.test(original)) continue;
    const w = original.toLowerCase();
    if (w.length < 3 || VERSION.test(w) || REGION.test(w) || QUANTITY.test(w) || TIME.test(w) || WORDS.has(w) || isEnvironment(w)) continue;
    const inner = /[a-z0-9*][._\-/:@][a-z0-9]/.test(w);
    const mixed = /[a-z]/.test(w) && /\d/.test(w);
    if (!inner && !mixed) continue;
    const value = w.replace(/^\*\./, '');
    out.set(value, { value, kind: kindOf(value) });
  }
  return [...out.values()];
}

function kindOf(w: string): IdentifierKind {
  if (w.includes('@')) return 'email';
  if (IP.test(w)) return 'ip';
  if (w.includes('/') || w.startsWith('arn:')) return 'path';
  if (DOMAIN.test(w)) return 'domain';
  const typed = TYPED.exec(w);
  if (typed) return `typed:${typed[1]}`;
  return 'name';
}

function segments(w: string): string[] {
  return w.split(/[/:]+/).filter((s) => s.length > 0);
}

/**
 * Whether a call's identifier is the intent's, or inside it: the same value; a subdomain; a path
 * that runs through two or more of the intent path's segments in a row; a name that extends the
 * intent's at a separator (`orders-db` → `orders-db-primary`); or the intent's name as a whole part
 * of a path, domain or email. Never a look-alike: `4471` is not `447`, `acme.io` not `staging.acme.io`.
 */
export function identifierMatches(call: Identifier, intent: Identifier): boolean {
  const c = call.value;
  const i = intent.value;
  if (c === i) return true;
  if (intent.kind === 'domain') return c.endsWith(`.${i}`) || (call.kind === 'email' && c.endsWith(`@${i}`));
  if (intent.kind === 'path') {
    const a = segments(i);
    const b = segments(c);
    const need = Math.min(2, a.length);
    for (let s = 0; s + need <= a.length; s++) {
      for (let t = 0; t + need <= b.length; t++) {
        let n = 0;
        while (s + n < a.length && t + n < b.length && a[s + n] === b[t + n]) n++;
        if (n >= need) return true;
      }
    }
    return false;
  }
  if (intent.kind === 'ip') return c.startsWith(i.replace(/\/\d+$/, ''));
  // A typed id abbreviated as people do (`dp_1P2` for `dp_1P2qLmLk…`): three characters after its
  // type at least, half the id at most (`cus_Lm44` is not `cus_Lm4419`, another customer).
  if (intent.kind.startsWith('typed:') && c.startsWith(i) && i.length >= intent.kind.length - 'typed:'.length + 4 && 2 * i.length <= c.length) return true;
  // A name (or typed id) extended at a separator, or a whole part of a longer identifier; `-` and
  // `_` are one separator and a part's plural is the part (`one_page` is `one-page`, `geo-headers` `geo-header`).
  const nc = spelling(c);
  const ni = spelling(i);
  const at = nc.indexOf(ni);
  if (at < 0) return false;
  const before = at === 0 ? '' : nc[at - 1]!;
  const after = nc[at + ni.length] ?? '';
  return (before === '' || /[./:@_\-]/.test(before)) && (after === '' || /[./:@_\-]/.test(after));
}

/** A name as `identifierMatches` compares it: `_` as `-`, each part without a final `s`. */
function spelling(v: string): string {
  return v.replace(/_/g, '-').replace(/([a-z0-9]{2,})s(?=$|[./:@-])/g, '$1');
}

/** The parts of an identifier or value: what `.`, `/`, `:`, `@` and spaces separate. */
export function partsOf(value: string): string[] {
  return value.toLowerCase().split(/[./:@\s]+/).filter((p) => p.length > 0);
}

/**
 * Kinds on which the call contradicts the intent: the intent names identifiers of that kind, the
 * call carries some, none of the call's matches any of the intent's (for a typed id: not every one does), and the intent's are not
 * spelled out across the call's arguments either (`status.acme.io` as zone `acme.io` and name
 * `status`; `acme/web` as owner `acme` and repo `web`). Plain names are compared only with their
 * siblings — names that begin with the same part (`payments-staging` against `payments-prod`) —
 * because two systems name one thing differently (`password-reset`, `tmpl_pwd_reset_sms`).
 */
export function contradictedKinds(intent: readonly Identifier[], call: readonly Identifier[], callParts: ReadonlySet<string>): IdentifierKind[] {
  const out: IdentifierKind[] = [];
  for (const kind of new Set(intent.map((x) => x.kind))) {
    const ofIntent = intent.filter((x) => x.kind === kind);
    let ofCall = call.filter((x) => x.kind === kind);
    if (kind === 'name') ofCall = ofCall.filter((c) => ofIntent.some((i) => firstPart(i.value) === firstPart(c.value)));
    if (ofCall.length === 0) continue;
    // A typed id names one resource: a call on the intent's and others too is wider than asked.
    const matched = (c: Identifier) => intent.some((i) => identifierMatches(c, i));
    if (kind.startsWith('typed:') ? ofCall.every(matched) : ofCall.some(matched)) continue;
    if (ofIntent.some((i) => partsOf(i.value).length > 1 && partsOf(i.value).every((p) => callParts.has(p)))) continue;
    out.push(kind);
  }
  return out;
}

function firstPart(w: string): string {
  return w.split(/[._\-/:@]/)[0]!;
}

/** Whether any of the call's identifiers is one of the intent's (or inside it). */
export function anyMatch(intent: readonly Identifier[], call: readonly Identifier[]): boolean {
  return call.some((c) => intent.some((i) => identifierMatches(c, i)));
}

/** A number and the units that make it a quantity rather than the number of something. */
const NUMBER = /^#?(\d{2,})$/;
const UNITS = /^(%|percent|days?|hours?|hrs?|min(ute)?s?|secs?|seconds?|weeks?|months?|years?|gb|mb|tb|seats?|users?|rows?|times|replicas?|pods?|nodes?|instances?|items?|records?|calls?|requests?)$/;
const NOT_NOUNS = new Set(['to', 'from', 'by', 'than', 'last', 'over', 'under', 'at', 'of', 'for', 'the', 'and', 'or', 'in', 'on', 'with', 'about', 'after', 'before', 'within', 'every', 'each', 'top', 'first', 'next', 'past', 'around', 'until', 'since', 'port', 'ports', 'version', 'a', 'an', 'this', 'that', 'our', 'my', 'its', 'their', 'new', 'old', 'all', 'only', 'into', 'onto', 'as', 'is', 'are', 'be', 'it']);

/**
 * What the intent names after a noun that says what it is: `customer 42`, `PR #4412`, `branch
 * feat/x`, `alert high-latency-api` — noun (singular) → the values. Numbers followed by a unit
 * (`40 min`, `25 seats`) are quantities, not names.
 */
export function keyedIn(intent: string, ids: readonly Identifier[], isVerb: (w: string) => boolean): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const idValues = new Set(ids.map((i) => i.value));
  const toks = intent.toLowerCase().split(/[\s,;()"'`]+/).map((t) => t.replace(/^[^a-z0-9#*]+|[^a-z0-9]+$/g, ''));
  for (let k = 1; k < toks.length; k++) {
    const noun = toks[k - 1]!;
    // A verb that leads the sentence or a clause acts on the value ("deploy release/1"); elsewhere the same word is its noun ("silence alert x").
    const leads = k === 1 || /^(and|then|to|please|pls)$/.test(toks[k - 2] ?? '');
    if (!/^[a-z]{2,}$/.test(noun) || NOT_NOUNS.has(noun) || (isVerb(noun) && leads) || /(ed|ing)$/.test(noun)) continue;
    const t = toks[k]!;
    const n = NUMBER.exec(t);
    const value = n && !UNITS.test(toks[k + 1] ?? '') ? String(Number(n[1])) : idValues.has(t.replace(/^\*\./, '')) ? t.replace(/^\*\./, '') : undefined;
    if (value === undefined) continue;
    const stem = noun.replace(/(es|s)$/, '');
    if (!out.has(stem)) out.set(stem, new Set());
    out.get(stem)!.add(value);
  }
  return out;
}

/** The call's arguments as (key, value) leaves, a few levels deep: strings and integers. */
export function keyedArgs(args: unknown, out: [string, string][] = [], depth = 0, key = ''): [string, string][] {
  if (depth > 3 || args === null || args === undefined) return out;
  if (typeof args === 'string' && args.length <= 200) out.push([key, args.toLowerCase()]);
  else if (typeof args === 'number' && Number.isInteger(args)) out.push([key, String(args)]);
  else if (Array.isArray(args)) args.forEach((v) => keyedArgs(v, out, depth + 1, key));
  else if (typeof args === 'object') for (const [k, v] of Object.entries(args as Record<string, unknown>)) keyedArgs(v, out, depth + 1, k.toLowerCase());
  return out;
}

function keyIsNoun(key: string, noun: string): boolean {
  const bare = key.replace(/[_-]?(id|ids|name|names|number|no|num|key)$/, '');
  return bare === noun || bare === `${noun}s`;
}

function agrees(value: string, want: string): boolean {
  const range = /^(\d+)-(\d+)$/.exec(want);
  if (range) return (value.match(/\d+/g) ?? []).some((run) => Number(run) >= Number(range[1]) && Number(run) <= Number(range[2]));
  if (/^\d+$/.test(want)) return (value.match(/\d+/g) ?? []).some((run) => String(Number(run)) === want);
  return value === want || identifierMatches({ value, kind: 'name' }, { value: want, kind: 'name' }) || value.endsWith(`/${want}`);
}

/** Nouns whose value the call contradicts: an argument named for the noun carries another value. */
export function contradictedKeyed(intent: ReadonlyMap<string, ReadonlySet<string>>, args: readonly (readonly [string, string])[]): string[] {
  const out: string[] = [];
  for (const [noun, wanted] of intent) {
    const ofNoun = args.filter(([k]) => keyIsNoun(k, noun));
    // The value under another key (`description: gpu-runner-03` beside `runnerId: 3319`) is the same thing named twice.
    if (ofNoun.length > 0 && !args.some(([, v]) => [...wanted].some((w) => agrees(v, w)))) out.push(noun);
  }
  return out;
}

/** Whether the call carries one of the intent's values under its noun. */
export function keyedMatches(intent: ReadonlyMap<string, ReadonlySet<string>>, args: readonly (readonly [string, string])[]): boolean {
  for (const [noun, wanted] of intent) {
    if (args.some(([k, v]) => keyIsNoun(k, noun) && [...wanted].some((w) => agrees(v, w)))) return true;
  }
  return false;
}
