/**
 * The evaluate → advance fold over a session's proposals, in one place: `gatehouse policy eval`
 * rebuilds a session's state from its history, a backtest replays recorded sessions through a
 * candidate policy, and the property tests drive generated sessions with it. The live workflow
 * runs the same two steps per call, with the tool run (I/O) between them.
 */
import type { CompiledPolicy } from './compile';
import { evaluate } from './evaluate';
import { advance, initialSessionState, withIntentScore, type SessionInit, type SessionState } from './state';
import type { Decision, OutcomeStatus, Proposal, ProposalFacts } from './types';

/** One past proposal, at its time. */
export interface ReplayStep {
  /** Epoch ms. */
  readonly at: number;
  readonly proposal: Proposal;
  readonly facts?: ProposalFacts;
  /** The intent-alignment score recorded after this call, if any. */
  readonly intentScore?: number;
}

/** What the fold saw at one step (for reports and property checks). */
export interface ReplayVisit<S extends ReplayStep> {
  readonly step: S;
  readonly decision: Decision;
  /** The state the decision was taken in. */
  readonly before: SessionState;
}

/**
 * Folds `steps` from a fresh state: each proposal is evaluated at its time, then advanced with
 * the outcome `outcomeOf` gives it (recorded, assumed or generated), then its intent score applied.
 */
export function replaySession<S extends ReplayStep>(
  policy: CompiledPolicy,
  init: SessionInit,
  steps: Iterable<S>,
  outcomeOf: (decision: Decision, step: S) => OutcomeStatus,
  visit?: (seen: ReplayVisit<S>) => void,
): SessionState {
  let state = initialSessionState(policy, init);
  for (const step of steps) {
    const decision = evaluate(policy, state, step.proposal, step.facts ?? {}, step.at);
    visit?.({ step, decision, before: state });
    state = advance(policy, state, step.proposal, outcomeOf(decision, step), step.at);
    if (step.intentScore !== undefined) state = withIntentScore(state, step.intentScore);
  }
  return state;
}
