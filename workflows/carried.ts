/**
 * Everything a session carries from one run to the next when it continues as new: the policy
 * snapshot, the policy engine's session state (budgets, rate windows, forbidden-sequence
 * progress, intent), counters, the audit sequence, fleet-control flags, leases, the signed
 * decisions already used and the approvals already decided (`carried-votes.ts`), the history bound
 * and the idle clock. Plain JSON data. Pending approvals never cross a run: continue-as-new only
 * happens between proposals (nothing queued or running, every handler finished).
 */
import type { ActionView, SessionStateView } from './contract';
import type { SessionToolDescriptor } from '../activities/types';
import type { Keyset } from '../policies/trust/keyset';
import type { CarriedVotes } from './carried-votes';

export interface IntentAction {
  readonly tool: string;
  /** Redacted arguments (they say what was acted on). */
  readonly args?: Readonly<Record<string, unknown>>;
  readonly at: string;
  /** The tool's effect under the session's policy (an upstream tool's classification): what the scorer weighs, not a guess from its name. */
  readonly effect?: 'read' | 'write' | 'destructive';
}

/** A lease carried to the next run: it is spent there and handed back by the run that ends the session. */
export interface CarriedLease {
  readonly slot: string;
  readonly leaseId: string;
  readonly until: number;
  readonly left: number;
  readonly used: readonly number[];
}

/** The signed-decision fields (`usedNonces`, `nonceExpiries`, `decidedApprovals`) are `CarriedVotes`'. */
export interface CarriedSession extends CarriedVotes {
  /** Who the session acts for, from the credential verified when the session first started. */
  readonly identity: { readonly agentId: string; readonly owner: string; readonly principal?: string; readonly credentialId?: string; readonly credentialIssuedAt?: string };
  readonly policyName: string;
  readonly policyDocument: unknown;
  /** The keyset snapshotted at start: signed decisions are verified against it in every run. */
  readonly keyset: Keyset;
  /** The worker's history bound the session started with (absent: carried before it). */
  readonly historyLimit?: number;
  /** Workflow time the idle clock counts from (absent: carried before it; the run's start then). */
  readonly idleFrom?: number;
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
  /** Leases of cross-session ledgers still held (absent: none, or carried before leases). */
  readonly leases?: readonly CarriedLease[];
  readonly intentScore?: number;
  readonly toolsUsed: readonly string[];
  readonly children: readonly string[];
  /** The session tree's progress (`TreeProgress`), once this session spawned (sequences-across-tree). */
  readonly tree?: unknown;
  /** Sub-session ids used (started or not); absent in runs carried before it: `children.length`. */
  readonly spawnCount?: number;
  readonly flaggedForReview: boolean;
  readonly startedAt: string;
  readonly runs: number;
}
