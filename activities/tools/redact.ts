/**
 * Redaction of sensitive argument values before they reach a log, the audit trail or Slack.
 * Paths are dotted; `*` matches any key of an object or any element of an array
 * (`items.*.secret` redacts `items[i].secret`, and `headers.*` every header's value), and a named
 * segment that meets an array applies to each element (`items.secret` redacts `items[i].secret`).
 * Both walkers here (`redactPaths`, `secretsAt`) follow these rules through `locate`.
 *
 * A redacted argument becomes its marker, `[REDACTED: N characters]` (`approvals/redaction.ts`):
 * the length and nothing else of the value. Redacting again keeps a marker as it is (the audit
 * activity redacts what the workflow sends, already redacted); an agent that sends a marker as a
 * value has it shown as written, and its call cannot be approved (the approval check compares a
 * marker's length with the value's). Secrets a result or an error echoes become `[REDACTED]`.
 */
import { isRedactionMarker, redactionMarker } from '../../approvals/redaction';
import { REDACTED } from '../../approvals/types';

export { REDACTED };

/** A sensitive value as people are shown it: its marker (a marker already, as it is). */
function redacted(value: unknown): string {
  return isRedactionMarker(value) ? value : redactionMarker(value);
}

/**
 * Returns a copy of `value` with every value at one of `paths` replaced by its marker,
 * `[REDACTED: N characters]`. Each value a path reaches is measured as it was given, the outermost
 * first: a value inside one already redacted is not reached again (`headers` and
 * `headers.authorization`, or `items.*` and `items.secret`, in any order, give the markers of the
 * real values — what the approval check recomputes).
 */
export function redactPaths<T>(value: T, paths: readonly string[]): T {
  const found: Location[] = [];
  for (const p of paths) locate(value, p.split('.'), [], found);
  if (found.length === 0) return value;
  // A trie of the places, an enclosing place ending the branches below it; then one rebuild.
  const root: Place = { below: new Map() };
  for (const at of found) {
    let node = root;
    for (const k of at) {
      if (node.whole) break;
      let next = node.below.get(k);
      if (!next) node.below.set(k, (next = { below: new Map() }));
      node = next;
    }
    if (!node.whole) {
      node.whole = true;
      node.below.clear();
    }
  }
  return rebuild(value, root) as T;
}

/** A place paths reach: redacted whole, or the places below it. */
interface Place {
  whole?: boolean;
  readonly below: Map<string | number, Place>;
}

/** `value` with each place of `place` replaced by its marker, measured on the value as given; copied only along the places. */
function rebuild(value: unknown, place: Place): unknown {
  if (place.whole) return redacted(value);
  if (Array.isArray(value)) return value.map((v, i) => (place.below.has(i) ? rebuild(v, place.below.get(i)!) : v));
  // Defined, not assigned (fromEntries): an own `__proto__` key stays a key.
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, v]) => [key, place.below.has(key) ? rebuild(v, place.below.get(key)!) : v]));
}

/** Where a value sits: its keys and indexes from the top. */
type Location = readonly (string | number)[];

/**
 * Collects where `segments` reach in `value`: `*` any element of an array or any key of an object,
 * a name that key of an object or of each element of an array (stepped through); only values that
 * exist. Each element and key is visited at most once per segment: linear in the size of `value`.
 */
function locate(value: unknown, segments: readonly string[], at: Location, out: Location[]): void {
  if (segments.length === 0) {
    if (value !== undefined) out.push(at);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const [head, ...rest] = segments as [string, ...string[]];
  if (Array.isArray(value)) {
    // `*` is this element; a name is looked up in each element (the array is stepped through).
    value.forEach((v, i) => locate(v, head === '*' ? rest : segments, [...at, i], out));
    return;
  }
  for (const key of Object.keys(value)) if (head === '*' || key === head) locate((value as Record<string, unknown>)[key], rest, [...at, key], out);
}

function valueAt(value: unknown, at: Location): unknown {
  let v = value;
  for (const k of at) v = (v as Record<string | number, unknown>)[k];
  return v;
}


/**
 * The safe default for arguments of a tool nobody knows: every string leaf is redacted (an
 * unknown tool has no declared sensitive fields, so any string might be a secret); numbers,
 * booleans, null and the shape stay, so the audit trail still shows what was attempted.
 */
export function redactAllStrings(value: unknown): unknown {
  if (typeof value === 'string') return redacted(value);
  if (Array.isArray(value)) return value.map(redactAllStrings);
  if (value !== null && typeof value === 'object') {
    // Defined, not assigned (fromEntries): an own `__proto__` key stays a key.
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactAllStrings(v)]));
  }
  return value;
}

/** Shorter values are not hunted for in text: they would redact ordinary words. */
const MIN_SECRET_LENGTH = 4;

/**
 * The string values at `paths` (every string inside an object or list found there too) and each
 * line of one that has several: the secrets a call carries, longest first. A server can echo them in its error text or its result
 * (a diff of an edit, "no match for …"), which path redaction does not reach.
 */
export function secretsAt(value: unknown, paths: readonly string[]): string[] {
  const found = new Set<string>();
  const strings = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.length >= MIN_SECRET_LENGTH) found.add(v);
      // Each line too: a diff echoes a multi-line value a line at a time (`+` or `-` before each).
      for (const line of v.split(/\r\n|\r|\n/)) if (line !== v && line.trim().length >= MIN_SECRET_LENGTH) found.add(line);
    } else if (Array.isArray(v)) v.forEach(strings);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(strings);
  };
  // The same matching as `redactPaths`: what it would replace is what is collected here.
  const at: Location[] = [];
  for (const p of paths) locate(value, p.split('.'), [], at);
  for (const l of at) strings(valueAt(value, l));
  return [...found].sort((a, b) => b.length - a.length);
}

/**
 * `value` with every occurrence of each of `secrets` — as written, and as JSON writes it inside a
 * string (a server echoing it in JSON text escapes its quotes and backslashes) — in every string
 * and key replaced by `[REDACTED]`.
 */
export function withoutSecrets<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  const forms = [...new Set(secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))].sort((a, b) => b.length - a.length);
  const text = (t: string) => forms.reduce((acc, secret) => acc.split(secret).join(REDACTED), t);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return text(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/**
 * `value` with every marker's length left out (`[REDACTED]`): for readers of arguments that weigh
 * what they say (the intent scorer), to which a secret's length says nothing.
 */
export function withoutRedactedLengths<T>(value: T): T {
  const walk = (v: unknown): unknown => {
    if (isRedactionMarker(v)) return REDACTED;
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
