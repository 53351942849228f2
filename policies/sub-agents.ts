/**
 * Whether a session may start a sub-agent, and what the child takes with it. Pure: the workflow
 * asks `spawnAdmission`, scores the two intents (an activity), asks `spawnDecision`, then starts
 * the child with the share `childStart` gives.
 */
import { requirement, type CompiledPolicy } from './compile';
import { refusal } from './gate';
import { childBudget, inheritedTransitions, type InheritedTransitions, type SessionState } from './state';
import type { BudgetOverride, Decision, SessionMode } from './types';

/** The parent session, as the spawn decision sees it. */
export interface SpawnSession {
  readonly sessionId: string;
  readonly halted: boolean;
  readonly mode: SessionMode;
}

/** A halted parent, or one not in normal mode, may not start sub-agents (`undefined`: it may ask). */
export function spawnAdmission(policy: CompiledPolicy, parent: SpawnSession): Decision | undefined {
  if (parent.halted) return refusal(policy.hash, 'session.halted', `session \`${parent.sessionId}\` was halted`);
  if (parent.mode !== 'normal') return refusal(policy.hash, 'session.mode', `a session in \`${parent.mode}\` mode may not start sub-agents`);
  return undefined;
}

/**
 * Given the similarity of the child's declared intent to the parent's (0..1): `allow` when close,
 * `approve` by the policy's default approvers when far (below `intent.reviewBelow`).
 */
export function spawnDecision(policy: CompiledPolicy, intentScore: number): Decision {
  const threshold = policy.intent.reviewBelow;
  if (intentScore >= threshold) return { verdict: 'allow', tier: 'autonomous', reasons: [], policyHash: policy.hash };
  return {
    verdict: 'approve',
    tier: 'approval',
    reasons: [{ rule: 'intent.child', message: `sub-agent intent scores ${intentScore.toFixed(2)} against the parent's, below ${threshold}` }],
    policyHash: policy.hash,
    approval: requirement(policy.document.approvers.default, false),
  };
}

/** A child's start: its budget share, the transitions it inherits, and the parent's state after. */
export interface ChildStart {
  readonly share: Required<BudgetOverride>;
  readonly inherited: InheritedTransitions | undefined;
  /** The parent's caps lowered by the share: both cannot spend it. */
  readonly parentState: SessionState;
}

export function childStart(policy: CompiledPolicy, parent: SessionState, now: number): ChildStart {
  const share = childBudget(policy, parent, now);
  const l = parent.limits;
  return {
    share,
    inherited: inheritedTransitions(policy, parent),
    parentState: {
      ...parent,
      limits: {
        actions: Math.max(0, l.actions - share.actions),
        writes: Math.max(0, l.writes - share.writes),
        critical: Math.max(0, l.critical - share.critical),
        tokens: Math.max(0, l.tokens - share.tokens),
      },
    },
  };
}
