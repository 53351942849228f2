/**
 * Everything a session carries from one run to the next when it continues as new: the policy
 * snapshot, the policy engine's session state, counters, the audit sequence and fleet-control
 * flags. Plain JSON data. Pending approvals never cross a run: continue-as-new only happens
 * between proposals.
 */
import type { ActionView, SessionStateView } from './contract';
import type { SessionToolDescriptor } from '../activities/types';

export interface IntentAction {
  readonly tool: string;
  /** Redacted arguments (they say what was acted on). */
  readonly args?: Readonly<Record<string, unknown>>;
  readonly at: string;
}

export interface CarriedSession {
  readonly policyDocument: unknown;
  readonly descriptors: readonly SessionToolDescriptor[];
  /** The policy engine's `SessionState` (plain JSON). */
  readonly state: unknown;
  readonly counters: SessionStateView['counters'];
  /** Last audit seq used. */
  readonly seq: number;
  /** Last proposal seq used (proposals and sub-agent requests share it). */
  readonly proposalSeq: number;
  readonly paused: boolean;
  readonly pausedTools: readonly string[];
  readonly lastActions: readonly ActionView[];
  readonly intentActions: readonly IntentAction[];
  readonly intentScore?: number;
  readonly toolsUsed: readonly string[];
  readonly children: readonly string[];
  readonly flaggedForReview: boolean;
  readonly startedAt: string;
  readonly runs: number;
}
