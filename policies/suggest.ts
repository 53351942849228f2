/**
 * "Did you mean": the catalog's closest tool name to one a policy names but the catalog lacks.
 * Pure: names in, a name (or none) out.
 */

/** Levenshtein distance, in one row of memory. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length] ?? 0;
}

/**
 * The known name nearest to `name`, when it is near enough to be a typo (at most a third of its
 * length, and at most 3 edits); `undefined` otherwise, or when `name` is a glob.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  if (/[*?]/.test(name)) return undefined;
  const limit = Math.min(3, Math.floor(name.length / 3));
  let best: { readonly name: string; readonly d: number } | undefined;
  for (const candidate of known) {
    const d = distance(name, candidate);
    if (d <= limit && (best === undefined || d < best.d)) best = { name: candidate, d };
  }
  return best?.name;
}
