/**
 * Text an agent wrote, made fit to show a person who decides on it. An agent can put characters in
 * its arguments, intent and reasoning that draw nothing (zero-width, default-ignorable, a blank
 * Braille pattern), stack over the lines around them (runs of combining marks), reorder what is
 * drawn after them (bidi overrides: `DELETE` shown as something else), move a terminal's cursor
 * (C0 and C1 controls) or look like a space and are not. Each such character is shown as a
 * `\uXXXX` escape instead, so what a person reads names every character of what they sign.
 * Pure, with no imports: used by every surface that shows a held call (Slack, the CLI, the console),
 * and the one module of `approvals/` workflow code may value-import (a span's tool name).
 */

/**
 * Controls, format characters (bidi, zero-width), line and paragraph separators, private use,
 * lone surrogates, default-ignorables (fillers, variation selectors, tags), every space character
 * but the ASCII space, and the letters and symbols that draw a blank: the Braille blank (U+2800) and
 * the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0, named even where a runtime's tables count them
 * default-ignorable). And a run of three or more combining marks: each is drawn over the letter
 * before it, and stacked they reach into the lines above and below (a letter carries two at most in
 * the scripts people write; a single mark, as in a decomposed `é`, stays as written).
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cs}\p{Default_Ignorable_Code_Point}\p{Zs}\u115F\u1160\u2800\u3164\uFFA0]|[\p{Mn}\p{Me}]{3,}/gu;

/** `\uXXXX` for each UTF-16 unit of `chars` (one character, or a run of marks): a JSON escape, so escaped JSON parses to the same value. */
function escaped(chars: string): string {
  let out = '';
  for (let i = 0; i < chars.length; i++) out += `\\u${chars.charCodeAt(i).toString(16).padStart(4, '0')}`;
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
  // A match is one character, or a run of marks: each mark of it counts.
  for (const [m] of text.matchAll(HIDDEN)) if (m !== ' ' && m !== '\n') n += [...m].length;
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
 * A tool name or argument key as written when it is a plain name, else quoted: an unknown tool's
 * name (recorded as the agent sent it) or a key could otherwise spell the rest of a line
 * ("… the policy decided APPROVAL; eng-007 approved …").
 */
export function shownName(name: string): string {
  return /^[A-Za-z0-9_.\/-]{1,200}$/.test(name) ? name : shownQuoted(name);
}

/**
 * Prose (an intent, a reasoning, a rule's message) with its hidden characters escaped and its
 * line breaks kept. Backslashes are left as written: prose is read, not signed; the call's
 * arguments go through `shownJson`.
 */
export function shownText(text: string): string {
  return escapeHidden(text, (ch) => ch === ' ' || ch === '\n');
}
