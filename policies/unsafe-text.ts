/**
 * Text that may name something other than what it spells once the server that gets it resolves
 * it: a `.` or `..` segment (`/srv/notes/..` is `/srv`), a backslash (a separator on Windows, an
 * escape elsewhere), a control character. A pattern matched against such text judges the spelling,
 * not what the call acts on, so text holding one matches no pattern. Shared by the two places the
 * engine matches patterns against names a server resolves: resource URIs (`./upstream-subjects`)
 * and string arguments under a `pattern` bound (`./evaluate`).
 *
 * Pure: imports nothing of the project.
 */

/** A `.` or `..` segment: after a `/` or `\` or at the start, and before one, at the end, or before one of `ends`. */
function dotSegment(ends: string): string {
  return String.raw`(?:^|[/\\])\.\.?(?:[/\\${ends}]|$)`;
}

const BACKSLASH = String.raw`\\`;
const C0_AND_DEL = String.raw`\u0000-\u001f\u007f`;
const C1 = String.raw`\u0080-\u009f`;

/**
 * A resource URI never matched: dot segments (a URI's segment also ends at `?` or `#`), a
 * percent-encoded `.`, `/`, `\` or `%`, backslashes, whitespace and C0 controls or DEL.
 */
export const UNSAFE_URI = new RegExp(`${dotSegment('?#')}|%2e|%2f|%5c|%25|${BACKSLASH}|[\\s${C0_AND_DEL}]`, 'i');

/**
 * A string argument no `pattern` bound matches: dot segments, a percent-encoded `.`, `/` or `\` (a
 * URL parser resolves `/public/%2e%2e/admin` to `/admin`), backslashes, control characters (C0, DEL, C1).
 */
const UNSAFE_PATTERN_TEXT = new RegExp(`${dotSegment('')}|%2e|%2f|%5c|${BACKSLASH}|[${C0_AND_DEL}${C1}]`, 'i');

/** Why a string under a `pattern` bound matches no pattern, or undefined when it may. */
export function patternTextProblem(text: string): string | undefined {
  return UNSAFE_PATTERN_TEXT.test(text) ? 'holds a dot segment (`.` or `..`), an encoded `.`, `/` or `\\`, a backslash or a control character' : undefined;
}
