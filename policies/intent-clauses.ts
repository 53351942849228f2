/**
 * The word that leads each clause of an intent: where people put the verb of what they ask
 * (issue 27). Pure. `intentEffect` ranks these words first; the same words later in a clause are
 * mostly nouns ("the deploy job", "rollout status").
 *
 * Two things lead no clause (session 13):
 * - the **subject** before a modal: in "search pods that throw 5xx should get kicked out" what is
 *   asked follows `should`/`must`/`shall`, and a read verb there describes a state ("the volumes
 *   should look right"), not a look to take;
 * - a word followed by an auxiliary: "the history **is** eating the db", "status **was** red" state.
 */

const words = (s: string): ReadonlySet<string> => new Set(s.split(' '));

/** Words that may come before a clause's verb: "please", "can you", "go", "we need to". */
const FILLER = words('please pls plz can could would you we i need needs to go just quickly lets s kindly also then and so ok okay hey team');
/** Words between a modal and its verb: "should also be", "must not". */
const AFTER_MODAL = words('be also not never really probably just now all');
const AUXILIARY = words('is are was were has have had keeps seems looks');
const MODAL = /\b(?:should|must|shall)\b/;
const CLAUSE = /[,;:.!?&()\u2014\u2013]|\s-\s|\band\b|\bthen\b/;

export interface LeadWords {
  readonly tokens: (text: string) => string[];
  readonly isRead: (word: string) => boolean;
}

/** The word that leads each clause (clauses split at `,;:.!?&()`, dashes, "and", "then"), as `LeadWords` reads them. */
export function clauseLeads(text: string, w: LeadWords): string[] {
  const out: string[] = [];
  for (const clause of text.split(CLAUSE)) {
    const [subject, ...rest] = clause.split(MODAL);
    if (rest.length > 0) {
      const verb = w.tokens(rest.join(' ')).find((t) => !AFTER_MODAL.has(t) && !FILLER.has(t));
      if (verb !== undefined && !w.isRead(verb)) out.push(verb);
      continue;
    }
    const toks = w.tokens(subject!);
    const i = toks.findIndex((t) => !FILLER.has(t));
    if (i < 0) continue;
    const next = toks[i + 1];
    if (next !== undefined && AUXILIARY.has(next)) continue;
    out.push(toks[i]!);
  }
  return out;
}
