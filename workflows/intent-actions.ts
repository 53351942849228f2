/**
 * What the intent scorer is told of an executed call: its tool, its (redacted) arguments, when it
 * ran, and the tool's effect under the session's policy. An upstream tool's catalog effect is a
 * placeholder and its name may say nothing of what it does (`kubectl_generic`): without the
 * policy's classification the scorer guessed the effect from the name, and a destructive call
 * under a read intent scored as aligned.
 */
import type { CompiledPolicy } from '../policies';
import type { IntentAction } from './carried';

export function intentAction(policy: CompiledPolicy, tool: string, args: Readonly<Record<string, unknown>>, at: string): IntentAction {
  const effect = policy.tools.get(tool)?.info.effect;
  return { tool, args, at, ...(effect ? { effect } : {}) };
}
