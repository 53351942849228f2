/**
 * How deep a JSON value nests, checked without recursion: the proposal validators (the gateway's
 * schemas and the workflow's update validator) refuse arguments nested deeper than
 * `MAX_ARGS_DEPTH`, naming the path where the limit is passed. Pure; imports nothing.
 */

/** Nesting of a proposal's `args` the gate accepts: `{}` is depth 1, `{ "a": [] }` depth 2. */
export const MAX_ARGS_DEPTH = 64;

/** Where a value first nests deeper than `max` containers, or `undefined` when it does not. */
export function tooDeepAt(value: unknown, max: number): readonly (string | number)[] | undefined {
  // Depth-first with an explicit stack: the value itself may be thousands of levels deep.
  const stack: { readonly value: unknown; readonly path: readonly (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: v, path } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (path.length >= max) return path;
    if (Array.isArray(v)) v.forEach((item, i) => stack.push({ value: item, path: [...path, i] }));
    else for (const [key, item] of Object.entries(v)) stack.push({ value: item, path: [...path, key] });
  }
  return undefined;
}

/** A path as `a.b.0.c` (at most the first 12 steps, then `…`; each key at most 40 characters). */
export function describePath(path: readonly (string | number)[]): string {
  const shown = path.slice(0, 12).map((k) => String(k).slice(0, 40)).join('.');
  return path.length > 12 ? `${shown}.…` : shown;
}
