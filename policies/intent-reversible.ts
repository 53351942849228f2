/**
 * Removals that can be undone against those that cannot (issue 27, session 13). Pure.
 *
 * The effect tiers (`read` < `write` < `destructive`) put "cancel the subscription" beside "delete
 * the customer". Operations domains name two kinds of removal: one that takes a thing out of use
 * and keeps it (`disable`, `archive`, `suspend`, `cancel`, `revoke`, `expire`, `disconnect`…), and
 * one that destroys it (`delete`, `destroy`, `purge`, `wipe`, `terminate`…). Two rules follow:
 * - a change that stops or takes something out of use ("stop the runaway build", "hold the
 *   campaign") is how people ask for a reversible removal: under a `write` intent such a call is
 *   not the stronger effect the `effect` cap is for;
 * - an intent that asks only to take something out of use and keep it ("archive the experiment",
 *   "turn off the code") is exceeded by a call that destroys it (`delete_experiment`).
 */

/** Verbs of a tool name that remove something from use and keep it. */
const REVERSIBLE = new Set('disable deactivate suspend archive unpublish cancel abort revoke disconnect expire detach deregister unregister unassign undeploy'.split(' '));

/** Verbs of an intent that ask to take something out of use and keep it (`turn off` reads as `disable`). */
const KEEPING = new Set('disable deactivate suspend archive unpublish'.split(' '));

/** Whether a destructive tool's verb (`toolVerb`) removes reversibly. */
export function reversibleVerb(verb: string | null): boolean {
  return verb !== null && REVERSIBLE.has(verb);
}

/** Whether the removal verbs an intent uses all ask to keep what they remove (false when it uses none). */
export function keepsWhatItRemoves(removalVerbs: readonly string[]): boolean {
  return removalVerbs.length > 0 && removalVerbs.every((v) => KEEPING.has(v));
}
