/**
 * Text as an SQL literal, for the few statements that travel as one multi-statement simple query
 * (a group commit, a tool call's opening and closing): those cannot carry bind parameters.
 */

/**
 * A string as an SQL literal: quotes doubled; with backslashes, an `E''` literal with them
 * doubled too (correct whatever `standard_conforming_strings` says). Same rules as node-pg's
 * `escapeLiteral`, without its character-by-character concatenation (events carry kilobytes of JSON).
 */
export function sqlLiteral(value: string): string {
  const quoted = value.replace(/'/g, "''");
  return value.includes('\\') ? ` E'${quoted.replace(/\\/g, '\\\\')}'` : `'${quoted}'`;
}
