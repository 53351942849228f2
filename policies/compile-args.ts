/**
 * A tool's argument bounds, compiled: merged by path (the first rule that bounds a path wins), each
 * with its pattern and, when bounds judge what the tool runs, the defaults the tool publishes along
 * its path (`./evaluate` judges them). Pure.
 */
import type { ArgBound, ToolRule } from './document';
import type { Moded } from './compile';
import type { ToolInfo } from './types';

export interface CompiledArgBound extends Moded {
  readonly path: string;
  readonly segments: readonly string[];
  readonly bound: ArgBound;
  readonly regex?: RegExp;
  /**
   * True when the bound judges the argument as the tool runs it (`CompileOptions.argumentsAsRun`):
   * a pattern-bound string holding a dot segment, a backslash or a control character fails it, a
   * missing argument is judged at the tool's default, and a value other than an object met before
   * the path's end fails it. False: as proposed, the rules of sessions recorded before.
   */
  readonly asRun: boolean;
  /**
   * Per segment of the path, the tool's published default for the path up to it (`ToolInfo.argumentDefaults`);
   * absent when the tool publishes none on the path, and always when not `asRun`.
   */
  readonly defaults?: readonly ({ readonly value: unknown } | undefined)[];
}

/** How a policy is compiled; a caller without a recorded session to replay takes the defaults. */
export interface CompileOptions {
  /**
   * Argument bounds judge what the tool runs (see `CompiledArgBound.asRun`). A session recorded
   * before this rule compiles with `false` (workflow patch `argument-bounds-as-run`), so its
   * decisions replay unchanged.
   * @default true
   */
  readonly argumentsAsRun?: boolean;
}

/** The tool's argument bounds from its matching `rules`, in the order they bound each path. */
export function compileArgBounds(info: ToolInfo, rules: readonly ToolRule[], shadowOf: (mode: 'enforce' | 'shadow' | undefined) => boolean, asRun: boolean): CompiledArgBound[] {
  const args: CompiledArgBound[] = [];
  const seen = new Set<string>();
  for (const rule of rules) {
    for (const [path, bound] of Object.entries(rule.args ?? {})) {
      if (seen.has(path)) continue;
      seen.add(path);
      const segments = path.split('.');
      const defaults = asRun ? defaultsAlong(info, segments) : undefined;
      args.push({ path, segments, bound, regex: bound.pattern !== undefined ? new RegExp(bound.pattern, 'u') : undefined, shadow: shadowOf(rule.mode), asRun, ...(defaults ? { defaults } : {}) });
    }
  }
  return args;
}

/** The tool's published default for each prefix of a bound's path; undefined when it publishes none on it. */
function defaultsAlong(info: ToolInfo, segments: readonly string[]): CompiledArgBound['defaults'] {
  const published = info.argumentDefaults;
  if (published === undefined || published === null || typeof published !== 'object') return undefined;
  const out = segments.map((_, i) => {
    const key = segments.slice(0, i + 1).join('.');
    return Object.prototype.hasOwnProperty.call(published, key) && published[key] !== undefined ? { value: published[key] } : undefined;
  });
  return out.some((d) => d !== undefined) ? out : undefined;
}
