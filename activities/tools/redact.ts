/**
 * Redaction of sensitive argument values before they reach a log, the audit trail or Slack.
 * Paths are dotted; `*` matches any key of an object or any element of an array
 * (`items.*.secret` redacts `items[i].secret`, and `headers.*` every header's value), and a named
 * segment that meets an array applies to each element (`items.secret` redacts `items[i].secret`).
 * Both walkers here (`redactPaths`, `secretsAt`) follow these rules through `step`.
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

/** Returns a copy of `value` with every value at one of `paths` replaced by its marker, `[REDACTED: N characters]`. */
export function redactPaths<T>(value: T, paths: readonly string[]): T {
  let out: unknown = value;
  // Shorter paths first: an enclosing value is measured whole, before a path inside it is redacted
  // (`headers` then `headers.authorization`, in any order declared, gives one marker of the real headers).
  const ordered = paths.map((p) => p.split('.')).sort((a, b) => a.length - b.length);
  for (const segments of ordered) out = redactOne(out, segments);
  return out as T;
}

/**
 * One step of a path into `value`: calls `matched(child, rest)` for each child the path's first
 * segment matches — `*` any element of an array or any key of an object, a name that key of an
 * object or of each element of an array — and returns `value` rebuilt from what it returns
 * (`value` itself when nothing matched or it is not a container). Each element and key is
 * visited at most once per segment, so the walk is linear in the size of `value`.
 */
function step(value: unknown, segments: readonly string[], matched: (child: unknown, rest: readonly string[]) => unknown): unknown {
  if (segments.length === 0 || value === null || typeof value !== 'object') return value;
  const [head, ...rest] = segments as [string, ...string[]];
  if (Array.isArray(value)) {
    // `*` is this element; a name is looked up in each element (the array is stepped through).
    return head === '*' ? value.map((v) => matched(v, rest)) : value.map((v) => step(v, segments, matched));
  }
  const src = value as Record<string, unknown>;
  const out: Record<string, unknown> = { ...src };
  for (const key of Object.keys(src)) if (head === '*' || key === head) out[key] = matched(src[key], rest);
  return out;
}

function redactOne(value: unknown, segments: readonly string[]): unknown {
  return step(value, segments, (child, rest) => {
    if (rest.length > 0) return redactOne(child, rest);
    return child === undefined ? undefined : redacted(child);
  });
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
    const out: Record<string, unknown> = {};
    // Defined, not assigned: an own `__proto__` key stays a key.
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: redactAllStrings(v), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

/** Shorter values are not hunted for in text: they would redact ordinary words. */
const MIN_SECRET_LENGTH = 4;

/**
 * The string values at `paths` (every string inside an object or list found there too): the
 * secrets a call carries, longest first. A server can echo them in its error text or its result
 * (a diff of an edit, "no match for …"), which path redaction does not reach.
 */
export function secretsAt(value: unknown, paths: readonly string[]): string[] {
  const found = new Set<string>();
  const strings = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.length >= MIN_SECRET_LENGTH) found.add(v);
    } else if (Array.isArray(v)) v.forEach(strings);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(strings);
  };
  // The same matching as `redactPaths`: what it would replace is what is collected here.
  const walk = (v: unknown, segments: readonly string[]): void => {
    step(v, segments, (child, rest) => (rest.length > 0 ? walk(child, rest) : strings(child)));
  };
  for (const p of paths) walk(value, p.split('.'));
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
