/**
 * Tool-name globs: `*` matches any run of characters (dots included), `?` exactly one.
 * `audit.*`, `iam.crossAccount*`, `*.delete*`. A pattern without wildcards is an exact name.
 */

/** A compiled glob: `test(name)` is a pure function of the name. */
export interface Glob {
  readonly source: string;
  test(name: string): boolean;
}

/** True when the pattern contains a wildcard. */
export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/**
 * Compiled globs by pattern: a policy names the same patterns for many tools, and a mandate's are
 * compiled on every evaluation. Bounded (cleared when full); a glob is a pure function of its
 * pattern, so sharing one changes no decision.
 */
const compiled = new Map<string, Glob>();
const MAX_COMPILED = 1_000;

/** Compiles a tool-name glob (once per pattern). */
export function compileGlob(pattern: string): Glob {
  let glob = compiled.get(pattern);
  if (glob === undefined) {
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    glob = compileUncached(pattern);
    compiled.set(pattern, glob);
  }
  return glob;
}

function compileUncached(pattern: string): Glob {
  if (!isGlob(pattern)) return { source: pattern, test: (name) => name === pattern };
  let body = '';
  for (const ch of pattern) {
    if (ch === '*') body += '.*';
    else if (ch === '?') body += '.';
    else body += ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  const re = new RegExp(`^${body}$`, 's');
  return { source: pattern, test: (name) => re.test(name) };
}

/** True when `name` matches any of the globs. */
export function matchesAny(globs: readonly Glob[], name: string): boolean {
  for (const glob of globs) if (glob.test(name)) return true;
  return false;
}
