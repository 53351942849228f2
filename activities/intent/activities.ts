/**
 * The intent activities: `scoreIntent` (alignment of a session's executed actions with its
 * declared intent) and `compareIntents` (a sub-agent's intent against its parent's). Scoring
 * failures of a remote endpoint surface as ApplicationFailures with the scorer error's type and
 * retry flag; the local scorer cannot fail.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ToolCatalog } from '../tools/catalog';
import { declaredArguments } from './declared-args';
import { IntentError } from './errors';
import type { IntentScore, IntentScorer, ScoreIntentInput } from './scorer';

export function createIntentActivities(scorer: IntentScorer, opts: { readonly catalog?: ToolCatalog } = {}) {
  async function scoreIntent(input: ScoreIntentInput): Promise<IntentScore> {
    // Fill in each tool's description (and resource) from the catalog when the workflow did not,
    // and the arguments it declares (the others may lower the score, never raise it). The effect is
    // the one the workflow sends (the session policy's), else a built-in's own: an upstream tool's
    // catalog effect is a placeholder.
    const actions = input.actions.map((a) => {
      const def = opts.catalog?.get(a.tool);
      if (!def) return a;
      const declared = declaredArguments(def);
      const effect = a.effect ?? (def.upstream ? undefined : def.effect);
      return { ...a, description: `${a.description ?? def.description} ${def.resource}`, ...(effect ? { effect } : {}), ...(declared ? { declared } : {}) };
    });
    return guard(() => scorer.score({ ...input, actions }));
  }

  async function compareIntents(a: string, b: string): Promise<{ score: number }> {
    return guard(async () => ({ score: await scorer.compare(a, b) }));
  }

  return { scoreIntent, compareIntents };
}

export type IntentActivities = ReturnType<typeof createIntentActivities>;

async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof IntentError) {
      throw ApplicationFailure.create({ type: err.type, message: err.message, nonRetryable: !err.retryable });
    }
    throw err;
  }
}
