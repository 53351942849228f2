/**
 * The findings of two rules of the seed articles, for `evaluate`: a write after the session read its
 * resource `afterReads` times, or beyond what its declared intent asked for, waits for a human.
 * Pure.
 */
import type { CompiledPolicy, CompiledTool } from './compile';
import type { RuleId } from './rules';
import type { SessionState } from './state';
import { EFFECT_RANK, readsOf } from './state-reads';

/** An approval finding, and whether its rule runs in shadow. */
interface Approval {
  readonly finding: { readonly kind: 'approve'; readonly rule: RuleId; readonly message: string };
  readonly shadow: boolean;
}

/** What `resourceWrites` and `intent.writesNeedWriteIntent` say of a call of `tool` now. */
export function readAndIntentFindings(policy: CompiledPolicy, state: SessionState, tool: CompiledTool, now: number): Approval[] {
  return [readThenWrite(policy, state, tool, now), beyondIntent(policy, state, tool)].filter((a): a is Approval => a !== undefined);
}

/**
 * `resourceWrites`: a write or destructive call to a resource the session read `afterReads` times
 * (inside the window) needs approval. The reads stay counted after an approved write: one approval
 * does not open the resource to writes that follow.
 */
function readThenWrite(policy: CompiledPolicy, state: SessionState, tool: CompiledTool, now: number): Approval | undefined {
  const rule = policy.resourceWrites;
  if (!rule || !tool.write) return undefined;
  const reads = readsOf(policy, state, tool.info.resource, now);
  if (reads < rule.afterReads) return undefined;
  const within = rule.withinMs !== undefined ? ` in the last ${rule.withinMs / 60_000} minutes` : '';
  return {
    finding: {
      kind: 'approve',
      rule: 'resource.read-then-write',
      message: `the session read \`${tool.info.resource}\` ${times(reads)}${within} before this ${tool.info.effect} call to it (\`${tool.info.name}\`): a write after ${rule.afterReads} ${rule.afterReads === 1 ? 'read' : 'reads'} of the same resource needs approval`,
    },
    shadow: rule.shadow,
  };
}

/**
 * `intent.writesNeedWriteIntent`: a write needs a declared intent that asks for a change, a
 * destructive call one that asks to remove. An intent no verb of which says what it asks for
 * (`null`) asks for no change: the agent writes its own intent, so leaving the verb out must not
 * open writes.
 */
function beyondIntent(policy: CompiledPolicy, state: SessionState, tool: CompiledTool): Approval | undefined {
  const declared = state.declaredEffect;
  if (!policy.intent.writesNeedWriteIntent || declared === undefined || !tool.write) return undefined;
  const effect = tool.info.effect;
  if (declared !== null && EFFECT_RANK[declared] !== undefined && EFFECT_RANK[declared] >= EFFECT_RANK[effect]) return undefined;
  const why =
    declared === 'read'
      ? 'the session declared a read-only intent (it asks only to look)'
      : declared === 'write'
        ? 'the session declared an intent to change something, not to remove it'
        : 'the session declared an intent that asks for no change (no verb in it says to write)';
  const needs = effect === 'destructive' ? 'one that asks to remove something' : 'one that asks to change something';
  return { finding: { kind: 'approve', rule: 'intent.effect', message: `${why}: ${effect} tool \`${tool.info.name}\` needs ${needs}` }, shadow: policy.intent.shadow };
}

/** 1 → `once`, 2 → `twice`, n → `n times`. */
function times(n: number): string {
  return n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`;
}
