/**
 * The words of names and texts the intent signals read (issue 27): tokens of a name in any naming
 * style, and the environments a text names. Pure.
 */

/** Lower-case word tokens of a name or text: camelCase, dots, dashes, underscores split. */
export function nameTokens(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t.length > 0);
}

/** Environment names, each spelling to its canonical name. */
const ENVIRONMENTS: ReadonlyMap<string, string> = new Map(
  [
    ['production', 'production prod prd live'],
    ['staging', 'staging stage stg preprod'],
    ['development', 'development dev develop'],
    ['qa', 'qa uat'],
    ['sandbox', 'sandbox'],
    ['preview', 'preview'],
    ['canary', 'canary'],
  ].flatMap(([canon, spellings]) => spellings!.split(' ').map((s) => [s, canon!] as const)),
);
const NON_PRODUCTION = ['staging', 'development', 'qa', 'sandbox', 'preview', 'canary'];

export function isEnvironment(w: string): boolean {
  return ENVIRONMENTS.has(w);
}

/** `pre-prod` as `staging` and `non-prod` as one word (`nonprod`), before the environments of a text are read. */
export function normaliseEnvironments(text: string): string {
  return text.replace(/\bpre[-\s]?prod(uction)?\b/g, 'staging').replace(/\bnon[-\s]?prod(uction)?\b/g, 'nonprod');
}

/** The environments a text names (canonical names); `non-prod` names every environment but production. */
export function environmentsOf(text: string): Set<string> {
  const out = new Set<string>();
  for (const t of nameTokens(normaliseEnvironments(text.toLowerCase()))) {
    if (t === 'nonprod') NON_PRODUCTION.forEach((e) => out.add(e));
    const env = ENVIRONMENTS.get(t);
    if (env) out.add(env);
  }
  return out;
}
