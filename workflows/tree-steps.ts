/**
 * Forbidden sequences across a session tree (patch `sequences-across-tree`): the root keeps the
 * tree's progress once it spawns (`core.tree`, seeded with its own); its own sequence steps are
 * decided there in-process, a sub-agent's by the root's `treeStep` update (the `askTreeRoot`
 * activity). The decision is `policies/tree-sequences.ts`'s, with the root's clock.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { SessionActivities } from '../activities/types';
import { rootSessionOf } from '../policies/agent-id';
import { completedTransitions } from '../policies/evaluate';
import { takesTreeSteps, treeProgressOf, treeRequestDigest, treeStep, treeStepProblem, type TreeStepRequest, type TreeStepResult } from '../policies/tree-sequences';
import { nowMs } from './clock';
import type { SessionCore } from './session-core';

/** Retried as the ledger's reservation is (a retry is the same update); after that, denied closed. */
const { askTreeRoot } = proxyActivities<SessionActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds', maximumAttempts: 8 },
});

/**
 * True for a sub-agent's session of a tree: started from its parent's record (which names the
 * parent) under an id of its parent's and `.<n>`. A session recorded with an id of its own choosing
 * (before ids were the parent's) is no member: it keeps its own sequences, as it always did.
 */
export function isSubAgent(core: SessionCore): boolean {
  const parent = core.input.parentSessionId;
  return parent !== undefined && core.sessionId.startsWith(`${parent}.`) && rootSessionOf(core.sessionId) !== core.sessionId;
}

/** At a spawn: the root starts keeping its tree's progress, from its own (a sub-agent's tree is its root's). */
export function startTree(core: SessionCore): void {
  if (core.sequencesAcrossTree && !isSubAgent(core)) core.tree ??= treeProgressOf(core.state);
}

/** True when a call of `tool` in this session is a tree step (so it is not a quick call). */
export function asksTree(core: SessionCore, tool: string): boolean {
  return core.sequencesAcrossTree && (isSubAgent(core) || core.tree !== undefined) && takesTreeSteps(core.policy, tool);
}

/**
 * The tree's answer for a tree step (`asksTree`) about to run. A root decides in-process; a
 * sub-agent asks its root, and a root that does not answer denies the call. `unlocked`: a person
 * unlocked this call's forbidden transitions (the rules its own state completes).
 */
export async function stepInTree(core: SessionCore, proposalSeq: number, tool: string, unlocked: boolean): Promise<TreeStepResult> {
  const at = nowMs();
  const compiled = core.policy.tools.get(tool);
  const unlockedRules = unlocked && compiled ? completedTransitions(core.policy, core.state, compiled.transitions, at).map((rule) => rule.id) : [];
  const step = { sessionId: core.sessionId, tool, at, ...(unlockedRules.length > 0 ? { unlockedRules } : {}) };
  if (!isSubAgent(core)) return decideHere(core, { ...step, stepId: `tree:${core.sessionId}:p${proposalSeq}` });
  try {
    return await askTreeRoot({ ...step, proposalSeq });
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const why = err.cause?.message ?? err.message;
    return { verdict: 'deny', reasons: [{ rule: 'tree.unavailable', message: `the session tree's root \`${rootSessionOf(core.sessionId)}\` did not answer: ${why}` }], stepId: '', requestDigest: '' };
  }
}

function decideHere(core: SessionCore, req: TreeStepRequest): TreeStepResult {
  const r = treeStep(core.policy, core.tree ?? treeProgressOf(core.state), req, core.sessionId, nowMs());
  core.tree = r.tree;
  return r.result;
}

/** The `treeStep` update's validator: a step of a session below this one. */
export function assertTreeStep(core: SessionCore, req: unknown): void {
  const problem = treeStepProblem(req);
  if (problem) throw ApplicationFailure.nonRetryable(problem, 'InvalidTreeStep');
  const { sessionId, stepId } = req as TreeStepRequest;
  if (isSubAgent(core) || sessionId === core.sessionId || rootSessionOf(sessionId) !== core.sessionId || !stepId.startsWith(`tree:${sessionId}:`)) {
    throw ApplicationFailure.nonRetryable(`session \`${core.sessionId}\` is not the root of \`${sessionId}\`'s tree`, 'InvalidTreeStep');
  }
}

/**
 * The `treeStep` update: decided once the session has started, with the tree's progress as it
 * stands. A root that ended answers nothing (its sub-agents were halted). A root recorded before
 * `sequences-across-tree` keeps no tree: it answers allow and counts nothing, as before the patch.
 */
export async function onTreeStep(core: SessionCore, req: TreeStepRequest): Promise<TreeStepResult> {
  await core.ready;
  if (core.summary) throw ApplicationFailure.nonRetryable(`session \`${core.sessionId}\` ended`, 'TreeRootEnded');
  if (!core.sequencesAcrossTree) return { verdict: 'allow', reasons: [], stepId: req.stepId, requestDigest: treeRequestDigest(req) };
  return decideHere(core, req);
}
