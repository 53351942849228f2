/**
 * Redaction of sensitive argument values before they reach a log, the audit trail or Slack.
 * Paths are dotted; `*` matches any key of an object or any element of an array, and a path
 * that names an array applies to each element (`items.token` redacts `items[i].token`).
 */
import { REDACTED } from '../../approvals/types';

export { REDACTED };

/** Returns a copy of `value` with every value at one of `paths` replaced by `[REDACTED]`. */
export function redactPaths<T>(value: T, paths: readonly string[]): T {
  let out: unknown = value;
  for (const p of paths) out = redactOne(out, p.split('.'));
  return out as T;
}

function redactOne(value: unknown, segments: readonly string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => redactOne(v, segments));
  if (segments.length === 0 || value === null || typeof value !== 'object') return value;
  const [head, ...rest] = segments as [string, ...string[]];
  const src = value as Record<string, unknown>;
  const out: Record<string, unknown> = { ...src };
  for (const key of Object.keys(src)) {
    if (head !== '*' && key !== head) continue;
    out[key] = rest.length === 0 ? (src[key] === undefined ? undefined : REDACTED) : redactOne(src[key], rest);
  }
  return out;
}

/**
 * The safe default for arguments of a tool nobody knows: every string leaf is redacted (an
 * unknown tool has no declared sensitive fields, so any string might be a secret); numbers,
 * booleans, null and the shape stay, so the audit trail still shows what was attempted.
 */
export function redactAllStrings(value: unknown): unknown {
  if (typeof value === 'string') return REDACTED;
  if (Array.isArray(value)) return value.map(redactAllStrings);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactAllStrings(v);
    return out;
  }
  return value;
}
