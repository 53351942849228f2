/**
 * Forbidden sequences across a session tree, as pure functions. A sub-agent starts with its
 * parent's progress, but each session then advanced only its own: a parent could list volumes and
 * its child unmount one, or a child list and the parent unmount. So once a session spawns, it keeps
 * one progress for its whole tree (seeded with its own), and every session of the tree checks a
 * call that takes part in a sequence there before it runs. An allowed step counts at once: it is a
 * call that runs (a call later refused for another reason still counts, as in a ledger: fail closed).
 *
 * The tree's step counter counts the steps of every session in it, so a rule's `within.steps`
 * counts the tree's calls of sequence tools, not one session's calls. A step is decided once: its
 * id's answer is kept (a retry gets it, another request under the id is denied), and the request
 * names the millisecond of its call, so one sent ahead by someone else cannot answer it.
 */
import { transitionRolesOf, type CompiledPolicy } from './compile';
import { completedTransitions } from './evaluate';
import { canonicalJson, sha256Hex } from './hash';
import { advanceTransitions, type SessionState, type TransitionProgress } from './state';
import type { Reason } from './types';

/** One progress for a whole session tree, kept by its root, with the answers of the last steps. */
export interface TreeProgress {
  readonly step: number;
  readonly transitions: TransitionProgress;
  /** Step id → the digest of its request and its answer (retries), the last `MAX_TREE_ANSWERS`. */
  readonly answers?: Readonly<Record<string, { readonly digest: string; readonly verdict: 'allow' | 'deny'; readonly reasons: readonly Reason[] }>>;
  /** Step ids of `answers`, oldest first. */
  readonly order?: readonly string[];
}

/** A sequence step a session of the tree asks its root about, before the call runs. */
export interface TreeStepRequest {
  /** `tree:<sessionId>:p<proposalSeq>`: also the Temporal update id, so a retry is the same step. */
  readonly stepId: string;
  /** The session making the call (a sub-agent of the root, at any depth). */
  readonly sessionId: string;
  readonly tool: string;
  /** The asking session's clock at the call (ms): part of the digest, checked against the root's clock. */
  readonly at: number;
  /** The transition rules a person unlocked for this call, in its own session's check (only those are lifted). */
  readonly unlockedRules?: readonly string[];
}

export interface TreeStepResult {
  readonly verdict: 'allow' | 'deny';
  readonly reasons: readonly Reason[];
  readonly stepId: string;
  /** The digest of the request answered: the asker checks it answers its own. */
  readonly requestDigest: string;
}

/** Answers kept for retries. */
export const MAX_TREE_ANSWERS = 256;
/** How far a step's `at` may be from the root's clock when it is first decided. */
export const TREE_STEP_SKEW_MS = 10 * 60_000;

/** The tree's progress when its root first spawns: the root's own. */
export function treeProgressOf(state: Pick<SessionState, 'step' | 'transitions'>): TreeProgress {
  return { step: state.step, transitions: state.transitions };
}

/** True when a call of `tool` is a tree step: the policy's sub-agents inherit transitions and the tool takes part in one. */
export function takesTreeSteps(policy: CompiledPolicy, tool: string): boolean {
  return policy.document.subAgents.inheritTransitions && (policy.tools.get(tool)?.transitions.length ?? 0) > 0;
}

export function treeRequestDigest(req: TreeStepRequest): string {
  return sha256Hex(canonicalJson(req));
}

/**
 * Decides one step at `now` (the root's clock): denied when it completes a forbidden sequence of the
 * root's policy (a tool the root's catalog lacks takes its places by name), else counted.
 */
export function treeStep(policy: CompiledPolicy, tree: TreeProgress, req: TreeStepRequest, rootSessionId: string, now: number): { readonly tree: TreeProgress; readonly result: TreeStepResult } {
  const digest = treeRequestDigest(req);
  const answer = (verdict: 'allow' | 'deny', reasons: readonly Reason[]) => ({ verdict, reasons, stepId: req.stepId, requestDigest: digest });
  const seen = tree.answers?.[req.stepId];
  if (seen) {
    if (seen.digest === digest) return { tree, result: answer(seen.verdict, seen.reasons) };
    return { tree, result: answer('deny', [{ rule: 'tree.conflict', message: `tree step \`${req.stepId}\` was already decided for another request` }]) };
  }
  const roles = policy.tools.get(req.tool)?.transitions ?? transitionRolesOf(policy.transitions, req.tool);
  let reasons: Reason[] = [];
  let next = tree;
  if (Math.abs(now - req.at) > TREE_STEP_SKEW_MS) {
    reasons = [{ rule: 'tree.conflict', message: `tree step \`${req.stepId}\` is for a call ${Math.round(Math.abs(now - req.at) / 1000)} s from the root's clock: a step is decided at its own time` }];
  } else if (roles.length > 0 && policy.document.subAgents.inheritTransitions) {
    // An unlock a person gave the call lifts the rules they were shown, no other; shadow rules deny nothing.
    const unlocked = new Set(req.unlockedRules ?? []);
    const found = completedTransitions(policy, tree, roles, now).filter((rule) => !rule.shadow && !unlocked.has(rule.id));
    reasons = found.map((rule) => ({ rule: 'tree.sequence', message: `\`${rule.id}\`: ${rule.message}, across the session tree of \`${rootSessionId}\` (a parent and its sub-agents)` }));
    if (reasons.length === 0) {
      const step = tree.step + 1;
      next = { ...tree, step, transitions: advanceTransitions(policy, tree.transitions, roles, step, now) };
    }
  }
  const verdict = reasons.length > 0 ? 'deny' : 'allow';
  const order = [...(tree.order ?? []), req.stepId];
  const answers = { ...tree.answers, [req.stepId]: { digest, verdict, reasons } } as Record<string, NonNullable<TreeProgress['answers']>[string]>;
  while (order.length > MAX_TREE_ANSWERS) delete answers[order.shift() ?? ''];
  return { tree: { ...next, answers, order }, result: answer(verdict, reasons) };
}

/** Checks that the root's answer is the answer to `req` (Temporal returns the first outcome of an update id); else a deny. */
export function treeAnswerFor(req: TreeStepRequest, result: TreeStepResult): TreeStepResult {
  const digest = treeRequestDigest(req);
  if (result && result.requestDigest === digest && result.stepId === req.stepId && (result.verdict === 'allow' || result.verdict === 'deny')) return result;
  return { verdict: 'deny', reasons: [{ rule: 'tree.conflict', message: `the tree root's answer for \`${req.stepId}\` is not for this request` }], stepId: req.stepId, requestDigest: digest };
}

/** Why a value is not a tree step request, or `undefined` (the root's update validator). */
export function treeStepProblem(req: unknown): string | undefined {
  if (typeof req !== 'object' || req === null) return 'expected a tree step';
  const r = req as Record<string, unknown>;
  for (const f of ['stepId', 'sessionId', 'tool'] as const) {
    if (typeof r[f] !== 'string' || (r[f] as string).length === 0 || (r[f] as string).length > 512) return `expected \`${f}\` to be a non-empty string`;
  }
  if (!(typeof r.at === 'number' && Number.isSafeInteger(r.at) && r.at >= 0)) return 'expected `at` to be a time in milliseconds';
  const unlocked = r.unlockedRules;
  if (unlocked !== undefined && !(Array.isArray(unlocked) && unlocked.length <= 64 && unlocked.every((id) => typeof id === 'string' && id.length > 0 && id.length <= 512))) {
    return 'expected `unlockedRules` to be at most 64 rule ids';
  }
  return undefined;
}
