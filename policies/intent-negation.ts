/**
 * What an intent says not to do (issue 27, session 13). Pure.
 *
 * "preview june payroll, do not submit", "look, dont fix", "suspend maria, do not delete anything":
 * the verb after `do not`/`don't`/`dont` is not asked — it is ruled out. It does not count towards
 * the intent's effect, and a call whose tool name has that verb is capped; a ruled-out change in
 * general ("dont change anything", "don't touch it") rules out every call that writes or destroys.
 * `never` is left alone: it mostly describes ("they never get our mails"), it does not instruct.
 */

const NEGATED = /\b(?:do\s+not|don['\u2019]?t)\s+([a-z]+)/g;
/** Verbs that rule out every change when negated. */
const ANY_CHANGE = new Set('change touch modify edit fix write alter mutate'.split(' '));

/** The verbs an intent rules out (`do not submit` → `submit`), lower case. */
export function negatedVerbs(intent: string): string[] {
  return [...new Set([...intent.toLowerCase().matchAll(NEGATED)].map((m) => m[1]!))];
}

/** The intent with its ruled-out verbs cut out, so they do not count towards its effect. */
export function withoutNegated(text: string): string {
  return text.replace(NEGATED, ' ');
}

/**
 * The ruled-out verb a call does, or null: a word of its tool name (`toolTokens`) the intent rules
 * out, or any change (`effect` write or destructive) when the intent rules out change in general.
 */
export function ruledOut(negated: readonly string[], toolTokens: readonly string[], effect: 'read' | 'write' | 'destructive' | null): string | null {
  const named = negated.find((v) => toolTokens.includes(v));
  if (named !== undefined) return named;
  if (effect === 'write' || effect === 'destructive') return negated.find((v) => ANY_CHANGE.has(v)) ?? null;
  return null;
}
