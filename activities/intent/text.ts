/**
 * Text features for the local intent scorer: tokens normalised through a small operations
 * vocabulary (so "clean up" and "delete", "invoice" and "billing" meet), stemmed, stop words
 * dropped; then word and character-trigram vectors compared by cosine. Pure and deterministic.
 */

/** Words that carry no intent (function words, and words every production tool says). */
const STOP = new Set(
  'a an and are as at be by for from in into is it its of on or our the this that to with all any some up out off over via we us please do make sure then now just production prod'.split(' '),
);

/** Synonym groups: every word maps to the group's first word. */
const GROUPS: readonly string[] = [
  'delete remove clean cleanup purge drop erase wipe prune clear destroy deletion removal',
  'billing bill invoice invoic charge payment billed',
  'query look lookup find read get fetch inspect view check show list search',
  'test qa fake dummy synthetic load-test loadtest',
  'month monthly period',
  'volume disk storage',
  'unmount detach',
  'mount attach',
  'secret credential password token',
  'rotate rotation renew regenerate',
  'restart reboot bounce',
  'scale replica capacity resize',
  'config configuration setting',
  'env environment variable',
  'summary summarize summarise total report overview',
  'customer account client',
  'audit log trail',
];

const SYNONYM = new Map<string, string>();
for (const g of GROUPS) {
  const words = g.split(' ');
  for (const w of words) SYNONYM.set(w, words[0]!);
}

/** A crude English stemmer: enough to meet plurals and -ing/-ed forms. */
export function stem(w: string): string {
  if (w.length > 4 && w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.length > 5 && w.endsWith('ing')) return w.slice(0, -3);
  if (w.length > 4 && w.endsWith('ed')) return w.slice(0, -2);
  if (w.length > 4 && /(ss|x|ch|sh)es$/.test(w)) return w.slice(0, -2);
  if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) return w.slice(0, -1);
  return w;
}

/** Canonical tokens of a text: camelCase and dotted names split, lower case, stemmed, synonyms merged. */
export function tokens(text: string): string[] {
  const spaced = text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .replace(/clean\s+up/g, 'cleanup')
    .replace(/[^a-z0-9-]+/g, ' ');
  const out: string[] = [];
  for (const raw of spaced.split(/\s+/)) {
    const w = raw.replace(/^-+|-+$/g, '');
    if (w.length < 2 || STOP.has(w) || /^[0-9-]+$/.test(w)) continue;
    const canon = SYNONYM.get(w) ?? SYNONYM.get(stem(w)) ?? stem(w);
    out.push(canon);
  }
  return out;
}

export type SparseVector = Map<string, number>;

export function wordVector(toks: readonly string[]): SparseVector {
  const v: SparseVector = new Map();
  for (const t of toks) v.set(t, (v.get(t) ?? 0) + 1);
  return v;
}

/** Character trigrams of each token, padded, so near-words (`volume`/`volumes`, typos) still overlap. */
export function trigramVector(toks: readonly string[]): SparseVector {
  const v: SparseVector = new Map();
  for (const t of toks) {
    const s = ` ${t} `;
    for (let i = 0; i + 3 <= s.length; i++) {
      const g = s.slice(i, i + 3);
      v.set(g, (v.get(g) ?? 0) + 1);
    }
  }
  return v;
}

export function cosine(a: SparseVector, b: SparseVector): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const [k, x] of a) {
    na += x * x;
    const y = b.get(k);
    if (y !== undefined) dot += x * y;
  }
  for (const y of b.values()) nb += y * y;
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

export function denseCosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/**
 * Raw similarity of two texts in 0..1: word overlap (weighted more: it carries meaning) blended
 * with trigram overlap (tolerates spelling). Not yet calibrated: see `calibrate`.
 */
export function textSimilarity(a: string, b: string): number {
  const ta = tokens(a);
  const tb = tokens(b);
  return 0.7 * cosine(wordVector(ta), wordVector(tb)) + 0.3 * cosine(trigramVector(ta), trigramVector(tb));
}

/** Maps a raw similarity onto 0..1 linearly between `low` (unrelated) and `high` (clearly the same task). */
export function calibrate(sim: number, c: { readonly low: number; readonly high: number }): number {
  if (!(c.high > c.low)) return sim;
  return Math.min(1, Math.max(0, (sim - c.low) / (c.high - c.low)));
}
