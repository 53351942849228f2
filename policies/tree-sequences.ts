/**
 * Forbidden sequences across a session tree, as pure functions. A sub-agent starts with its
 * parent's progress, but each session then advanced only its own: a parent could list volumes and
 * its child unmount one, or a child list and the parent unmount. So once a session spawns, it keeps
 * one progress for its whole tree (seeded with its own), and every session of the tree checks a
 * call that takes part in a sequence there before it runs. An allowed step counts at once: it is a
 * call that runs (a call later refused for another reason still counts, as in a ledger: fail closed).
 *
 * The tree's step counter counts the steps of every session in it, so a rule's `within.steps`
 * counts the tree's calls of sequence tools, not one session's calls.
 */
import type { CompiledPolicy } from './compile';
import { completedTransitions } from './evaluate';
import { advanceTransitions, type SessionState, type TransitionProgress } from './state';
import type { Reason } from './types';

/** One progress for a whole session tree, kept by its root. */
export interface TreeProgress {
  readonly step: number;
  readonly transitions: TransitionProgress;
}

/** A sequence step a session of the tree asks its root about, before the call runs. */
export interface TreeStepRequest {
  /** The session making the call (a sub-agent of the root, at any depth). */
  readonly sessionId: string;
  readonly tool: string;
  /** An out-of-band approval unlocked this call's forbidden transition (the session's own check). */
  readonly unlocked?: boolean;
}

export interface TreeStepResult {
  readonly verdict: 'allow' | 'deny';
  readonly reasons: readonly Reason[];
}

/** The tree's progress when its root first spawns: the root's own. */
export function treeProgressOf(state: Pick<SessionState, 'step' | 'transitions'>): TreeProgress {
  return { step: state.step, transitions: state.transitions };
}

/** True when a call of `tool` is a tree step: the policy's sub-agents inherit transitions and the tool takes part in one. */
export function takesTreeSteps(policy: CompiledPolicy, tool: string): boolean {
  return policy.document.subAgents.inheritTransitions && (policy.tools.get(tool)?.transitions.length ?? 0) > 0;
}

/** Decides one step at `now` (the root's clock): denied when it completes a forbidden sequence, else counted. */
export function treeStep(policy: CompiledPolicy, tree: TreeProgress, req: TreeStepRequest, rootSessionId: string, now: number): { readonly tree: TreeProgress; readonly result: TreeStepResult } {
  const tool = policy.tools.get(req.tool);
  if (!tool || tool.transitions.length === 0 || !policy.document.subAgents.inheritTransitions) return { tree, result: { verdict: 'allow', reasons: [] } };
  // An unlock a person gave the call (in its own session's check) lifts the tree's deny too; shadow rules deny nothing.
  const found = req.unlocked === true ? [] : completedTransitions(policy, tree, tool, now).filter((rule) => !rule.shadow);
  if (found.length > 0) {
    const reasons = found.map((rule) => ({ rule: 'tree.sequence' as const, message: `\`${rule.id}\`: ${rule.message}, across the session tree of \`${rootSessionId}\` (a parent and its sub-agents)` }));
    return { tree, result: { verdict: 'deny', reasons } };
  }
  const step = tree.step + 1;
  return { tree: { step, transitions: advanceTransitions(policy, tree.transitions, tool.transitions, step, now) }, result: { verdict: 'allow', reasons: [] } };
}

/** Why a value is not a tree step request, or `undefined` (the root's update validator). */
export function treeStepProblem(req: unknown): string | undefined {
  if (typeof req !== 'object' || req === null) return 'expected a tree step';
  const r = req as Record<string, unknown>;
  for (const f of ['sessionId', 'tool'] as const) {
    if (typeof r[f] !== 'string' || (r[f] as string).length === 0 || (r[f] as string).length > 512) return `expected \`${f}\` to be a non-empty string`;
  }
  if (r.unlocked !== undefined && typeof r.unlocked !== 'boolean') return 'expected `unlocked` to be true or false';
  return undefined;
}
