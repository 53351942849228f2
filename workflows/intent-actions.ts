/**
 * What the intent scorer is told of an executed call: its tool, its (redacted) arguments, when it
 * ran, and the tool's effect under the session's policy. An upstream tool's catalog effect is a
 * placeholder and its name may say nothing of what it does (`kubectl_generic`): without the
 * policy's classification the scorer guessed the effect from the name, and a destructive call
 * under a read intent scored as aligned.
 */
import { ActivityFailure, isCancellation, TemporalFailure } from '@temporalio/workflow';
import type { CompiledPolicy } from '../policies';
import type { IntentAction } from './carried';

export function intentAction(policy: CompiledPolicy, tool: string, args: Readonly<Record<string, unknown>>, at: string): IntentAction {
  const effect = policy.tools.get(tool)?.info.effect;
  return { tool, args, at, ...(effect ? { effect } : {}) };
}

/**
 * Why the scorer could not score, when its failure is one to fail closed on (patch
 * `intent-fails-closed`): its retries spent (an ApplicationFailure: a local activity's failure
 * arrives as its own), its time out (a TimeoutFailure), a regular activity's ActivityFailure.
 * `undefined` for a cancellation (the session's) and anything that is not the activity's failure.
 */
export function unscoredReason(err: unknown): string | undefined {
  if (isCancellation(err)) return undefined;
  if (err instanceof ActivityFailure) return err.cause?.message ?? err.message;
  if (err instanceof TemporalFailure) return err.message;
  return undefined;
}
