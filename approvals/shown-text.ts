/**
 * Text an agent wrote, made fit to show a person who decides on it. An agent can put characters in
 * its arguments, intent and reasoning that draw nothing (zero-width, default-ignorable), reorder
 * what is drawn after them (bidi overrides: `DELETE` shown as something else), move a terminal's
 * cursor (C0 and C1 controls) or look like a space and are not. Each such character is shown as a
 * `\uXXXX` escape instead, so what a person reads names every character of what they sign.
 * Pure, with no imports: used by every surface that shows a held call (Slack, the CLI, the console),
 * and the one module of `approvals/` workflow code may value-import (a span's tool name).
 */

/**
 * Controls, format characters (bidi, zero-width), line and paragraph separators, private use,
 * lone surrogates, default-ignorables (fillers, variation selectors, tags) and every space
 * character but the ASCII space.
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cs}\p{Default_Ignorable_Code_Point}\p{Zs}]/gu;

/** `\uXXXX` for each UTF-16 unit of `ch`: a JSON escape, so escaped JSON parses to the same value. */
function escaped(ch: string): string {
  let out = '';
  for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

function escapeHidden(text: string, keep: (ch: string) => boolean): string {
  return text.replace(HIDDEN, (ch) => (keep(ch) ? ch : escaped(ch)));
}

/** How many characters of every string and key in `value` are shown escaped (counted raw, not after JSON's own escapes). */
export function hiddenCountIn(value: unknown): number {
  if (typeof value === 'string') return hiddenCount(value);
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + hiddenCountIn(v), 0);
  if (value !== null && typeof value === 'object') return Object.entries(value).reduce((n, [k, v]) => n + hiddenCount(k) + hiddenCountIn(v), 0);
  return 0;
}

/** How many characters of `text` a person could not see as themselves (the ones shown escaped). */
export function hiddenCount(text: string): number {
  let n = 0;
  for (const [ch] of text.matchAll(HIDDEN)) if (ch !== ' ' && ch !== '\n') n++;
  return n;
}

/**
 * A value as indented JSON with every hidden character inside its strings and keys escaped. The
 * text parses to the same value as `JSON.stringify(value)`: the escapes are JSON's own. Its only
 * raw newlines are the indentation's (JSON already escapes the ones inside strings).
 */
export function shownJson(value: unknown): string {
  return escapeHidden(JSON.stringify(value, null, 2) ?? 'null', (ch) => ch === ' ' || ch === '\n');
}

/** A string as one line: its line breaks and hidden characters escaped (a listing's cell, a rule's message). */
export function shownLine(text: string): string {
  return escapeHidden(text, (ch) => ch === ' ');
}

/**
 * `shownLine` cut to at most `max` characters, ending in `…` when cut (never through a surrogate
 * pair). Only what can be shown is escaped (an escape only lengthens): the text may be megabytes.
 */
export function shownLineAtMost(text: string, max: number): string {
  const line = shownLine(text.slice(0, max + 1));
  if (line.length <= max) return line;
  let end = max - 1;
  const last = line.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${line.slice(0, end)}…`;
}

/** A string as one quoted JSON line: its newlines, quotes and hidden characters escaped. */
export function shownQuoted(text: string): string {
  return escapeHidden(JSON.stringify(text), (ch) => ch === ' ');
}

/**
 * Prose (an intent, a reasoning, a rule's message) with its hidden characters escaped and its
 * line breaks kept. Backslashes are left as written: prose is read, not signed; the call's
 * arguments go through `shownJson`.
 */
export function shownText(text: string): string {
  return escapeHidden(text, (ch) => ch === ' ' || ch === '\n');
}
