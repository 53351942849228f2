/**
 * The public contract of a Gatehouse session: workflow, update, signal and query names and the
 * shapes they carry. Agents in any language talk to Gatehouse through these names, so they are
 * stable API. The workflow, the client, the CLI and the tests all import them from here.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BudgetOverride, Decision, Mandate, OutcomeStatus, Proposal, SessionMode } from '../policies/types';
import type { TreeStepRequest, TreeStepResult } from '../policies/tree-sequences';
import type { SignedEnvelope } from '../policies/trust/envelope';

/** Default task queue; `GATEHOUSE_TASK_QUEUE` overrides it. */
export const DEFAULT_TASK_QUEUE = 'gatehouse';

/** Workflow type name of an agent session. */
export const SESSION_WORKFLOW_TYPE = 'agentSession';

/** Workflow id of a session: `session-<sessionId>`. */
export function sessionWorkflowId(sessionId: string): string {
  return `session-${sessionId}`;
}

// Budget overrides and mandates are the policy engine's nouns; the contract carries them as they are.
export type { BudgetOverride, Mandate };

/**
 * Start input of `agentSession`. Nothing in it can loosen the gate: identity comes from the
 * verified `credential`, the policy from the worker's registry (a `policy` document is refused),
 * and budgets and mandates may only tighten the policy's. A sub-agent (a workflow Temporal says
 * has a parent) takes nothing from it but its intent's wording: identity, policy, budget, mandate
 * and inherited transitions come from the parent session's `spawnRecord`.
 */
export interface SessionStartInput {
  readonly sessionId?: string;
  /** The agent credential (`gatehouse agents create`); required unless started by a parent session or with a ticket. */
  readonly credential?: string;
  /**
   * In place of `credential`: the ticket the credential is kept under (`audit/start-tickets.ts`, the
   * gateway's way), so this input — in every history of the session — holds no bearer token.
   */
  readonly credentialTicket?: string;
  /** Optional; when set it must equal the credential's agent (a sub-agent's is set by its parent). */
  readonly agentId?: string;
  /** Optional; when set it must equal the credential's owner. */
  readonly owner?: string;
  readonly intent: string;
  /** Name of a policy the worker loaded; allowed only where the credential lists it. Absent: the worker's default. */
  readonly policyRef?: string;
  /** Refused: a session's policy comes from the worker, never from the caller. */
  readonly policy?: unknown;
  readonly parentSessionId?: string;
  /** Ignored (a sub-agent takes its principal from its parent's spawn record). */
  readonly principal?: string;
  readonly budget?: BudgetOverride;
  readonly mandate?: Mandate;
  /**
   * Forbidden transitions a sub-agent inherits from its parent, exactly as the policy engine's
   * `initialSessionState` takes them (accepted only from a real parent workflow).
   */
  readonly inheritedTransitions?: unknown;
  /**
   * Tools paused in the parent session when it started this sub-agent: the child starts with them
   * paused (read only from a real parent's start; a pause only stops, so nothing here loosens).
   */
  readonly pausedTools?: readonly string[];
  /**
   * Read only by runs started before `worker-session-bound` (their bound; default 10000). Newer runs
   * take the worker's `sessionHistoryLimit` (unset: 600 or 120 by its cache): a caller does not choose it.
   * @deprecated ignored by new sessions
   */
  readonly historyLimit?: number;
}

/** Largest accepted proposal: its canonical JSON, in bytes. Larger ones are rejected by the validator. */
export const MAX_PROPOSAL_BYTES = 64 * 1024;

/**
 * What the `propose` update carries: a policy `Proposal`, plus an optional request to unlock a
 * forbidden transition out of band. With `requestUnlock: true`, a call denied only because it
 * follows a forbidden transition becomes an approval request (`unlocksTransition: true`); a human
 * approving it lets exactly that call run, once.
 */
export interface SessionProposal extends Proposal {
  readonly requestUnlock?: boolean;
}

/** How a proposal ended: the policy engine's outcome of a call. */
export type ProposeStatus = OutcomeStatus;

/**
 * Error types the session workflow refuses or fails with, spelled once: the worker throws them,
 * the client maps each to its own error class, and the activities' retry policies name them.
 */
export const SESSION_ERROR_TYPES = {
  /** An update validator's rejection: not a proposal at all (nothing recorded). */
  invalidProposal: 'InvalidProposalError',
  /** An update sent after `end` or `halt`. */
  sessionClosed: 'SessionClosedError',
  /** The session's policy does not compile. */
  invalidPolicy: 'InvalidPolicyError',
  /** A start that claims what it may not (identity, parent, policy, carried state). */
  startRefused: 'SessionStartRefusedError',
  /** A start reusing a session id that already has a trail. */
  sessionIdReused: 'SessionIdReusedError',
  /** An audit write failed for good (unstorable, or the database gone past the retry bound): the session ends. */
  auditUnwritable: 'AuditUnwritableError',
  /** An audit event PostgreSQL refuses as a value (a data exception): retrying cannot help. */
  auditUnstorable: 'AuditUnstorableError',
} as const;

/** What every `propose` result carries. */
interface ProposeResultBase {
  readonly decision: Decision;
  /** Set when humans were asked: the approval's id. */
  readonly approvalId?: string;
  /** Position of this proposal in the session (1-based). */
  readonly sequence: number;
  /**
   * Upstream notifications the worker relayed to the gateways while the call ran (an upstream MCP
   * tool's first attempt): the MCP gateway waits for that many before it answers. Absent: unknown.
   */
  readonly relayedNotes?: number;
}

/** Result of the `propose` update, one case per status. */
export type ProposeResult =
  | (ProposeResultBase & { readonly status: 'executed'; readonly result: unknown; readonly error?: undefined })
  | (ProposeResultBase & { readonly status: 'failed'; readonly error: { readonly type: string; readonly message: string }; readonly result?: undefined })
  | (ProposeResultBase & { readonly status: 'denied' | 'expired'; readonly result?: undefined; readonly error?: undefined });

/**
 * Payload of the `approval` signal: a vote signed by an approver's key (CLI) or by the approvals
 * service's key on a Slack person's behalf (`policies/trust`, kind `vote`). Unsigned votes are refused.
 */
export type ApprovalSignal = SignedEnvelope;

/** Payload of the `resume` signal: an operator-signed `resume` (pausing needs no signature). */
export type ResumeSignal = SignedEnvelope;

/** Payload of the `raiseBudget` signal: an operator-signed `budget-raise`. */
export type BudgetRaiseSignal = SignedEnvelope;

export type { SignedEnvelope };

/** Payload of the `halt` signal: the kill switch. */
export interface HaltSignal {
  readonly by: string;
  readonly reason: string;
}

/** Payload of the `pause` signal (fleet control; stopping needs no signature). */
export interface PauseSignal {
  readonly by: string;
  readonly reason?: string;
  /**
   * When set, only proposals of this tool wait; otherwise the whole session.
   * `gatehouse pause --tool <name>` sends it to every running session.
   */
  readonly tool?: string;
}

/**
 * Input of the `spawnChild` update: a sub-agent with its own declared intent. Its agent id is
 * `<rootAgentId>/<agentId>` (the root is the credential's agent); its session id
 * `<parentSessionId>.<n>`, chosen by the parent.
 */
export interface SpawnChildInput {
  readonly agentId: string;
  readonly intent: string;
  readonly mandate?: Mandate;
}

/**
 * What a parent session records of a sub-agent before starting it, and the child reads back
 * (the `spawnRecord` query of the parent run Temporal names): the only source of the child's
 * identity, policy and budget. Nothing of it comes from the child's start input.
 */
export interface SpawnRecord {
  /** The child's session id (`<parentSessionId>.<n>`). */
  readonly sessionId: string;
  readonly parentSessionId: string;
  /** `<rootAgentId>/<name>`. */
  readonly agentId: string;
  readonly owner: string;
  /** The root agent: the credential's, for the whole tree. */
  readonly principal: string;
  /** The root credential's id and issue time (absent for a root started before they were kept). */
  readonly credentialId?: string;
  readonly credentialIssuedAt?: string;
  readonly policyRef: string;
  readonly intent: string;
  readonly budget: Required<BudgetOverride>;
  readonly mandate?: Mandate;
  /** The forbidden transitions it inherits (the policy engine's `InheritedTransitions`). */
  readonly inheritedTransitions?: unknown;
  /** Its share of the rate limits and the parent's rate windows (`InheritedRates`, patch `rates-shared-in-tree`). */
  readonly inheritedRates?: unknown;
}

/** Result of the `spawnChild` update. */
export interface SpawnChildResult {
  readonly status: 'started' | 'denied' | 'expired';
  readonly sessionId: string;
  readonly workflowId: string;
  /** The budget taken from the parent's remaining budget (present when started). */
  readonly budget?: BudgetOverride;
  /** Similarity of the child's intent to the parent's (0..1). */
  readonly intentScore?: number;
  readonly reasons: readonly { readonly rule: string; readonly message: string }[];
  readonly approvalId?: string;
}

/** Input of the `end` update. */
export interface EndInput {
  readonly reason?: string;
}

export type FinalState = 'completed' | 'blocked' | 'cancelled' | 'error' | 'halted';

/** A pending approval as the `state` query shows it. */
export interface PendingApprovalView {
  readonly approvalId: string;
  /** Id of the `propose` / `spawnChild` update that waits for it (absent for calls queued before this field existed). */
  readonly proposalId?: string;
  /** The proposal's position in the session (the number the approval id ends with). */
  readonly proposalSeq: number;
  /** What a vote must sign: the digest of the exact call. */
  readonly callDigest: string;
  readonly tool: string;
  /**
   * What the digest covers besides the tool, so an approval surface recomputes it from what it
   * shows (`callDigestOver`): the arguments as proposed, the policy hash and the digest of the
   * session state the decision saw. Absent from sessions started before these fields existed.
   * `args` are the ones already in the workflow's history; surfaces show `redactedArgs`.
   */
  readonly args?: Readonly<Record<string, unknown>>;
  readonly redactedArgs?: Readonly<Record<string, unknown>>;
  readonly policyHash?: string;
  readonly stateHash?: string;
  readonly blastRadius?: number;
  readonly requestedAt: string;
  readonly deadline: string;
  readonly groups: readonly string[];
  readonly approversRequired: number;
  readonly approvedBy: readonly string[];
}

/** One recent action as the `state` query shows it. */
export interface ActionView {
  readonly sequence: number;
  readonly at: string;
  readonly tool: string;
  readonly status: ProposeStatus;
  readonly verdict: Decision['verdict'];
}

/** Result of the `state` query. */
export interface SessionStateView {
  readonly sessionId: string;
  /** What a signed decision binds: the workflow id and the first run id of the session. */
  readonly workflowId: string;
  readonly firstRunId: string;
  readonly agentId: string;
  readonly owner: string;
  /** The agent of the credential this session (or its root, for a sub-agent) was started with. */
  readonly principal: string;
  readonly intent: string;
  readonly parentSessionId?: string;
  readonly mode: SessionMode;
  readonly paused: boolean;
  /** Tools paused one by one (`pause --tool`): a resume without a tool lifts these too. */
  readonly pausedTools?: readonly string[];
  readonly halted: boolean;
  readonly ended: boolean;
  readonly policyHash: string;
  readonly counters: {
    readonly proposals: number;
    readonly executed: number;
    readonly denied: number;
    readonly failed: number;
    readonly expired: number;
    readonly tokens: number;
  };
  /** Remaining budget per dimension in the current window. */
  readonly budgetLeft: { readonly actions: number; readonly writes: number; readonly critical: number; readonly tokens: number };
  readonly intentScore?: number;
  readonly pendingApprovals: readonly PendingApprovalView[];
  /** Allowed or approved calls, not yet run, that wait for a pause of the session or of their tool to be lifted, by proposal sequence. */
  readonly heldByPause?: readonly number[];
  readonly lastActions: readonly ActionView[];
}

/** Result of the `end` update. */
export interface SessionSummary {
  readonly sessionId: string;
  readonly finalState: FinalState;
  readonly mode: SessionMode;
  readonly counters: SessionStateView['counters'];
  readonly reason?: string;
}

export const proposeUpdate = defineUpdate<ProposeResult, [SessionProposal]>('propose');
export const spawnChildUpdate = defineUpdate<SpawnChildResult, [SpawnChildInput]>('spawnChild');
export const endUpdate = defineUpdate<SessionSummary, [EndInput]>('end');
/**
 * Sent with the session's start (update-with-start): answers once the start task is done, `true`
 * when the session took its policy, `false` when the start was refused (the run then fails with why).
 */
export const startedUpdate = defineUpdate<boolean>('started');
export const approvalSignal = defineSignal<[ApprovalSignal]>('approval');
/**
 * The session's own answer to a signed vote: counted (and where the approval stands), or refused
 * under the rule its alert names. What the Slack app, the CLI and the console report to the person.
 */
export type VoteAnswer =
  | { readonly counted: true; readonly approver: string; readonly group: string; readonly status: 'pending' | 'approved' | 'denied' }
  | { readonly counted: false; readonly rule: string; readonly message: string };
/**
 * The `approval` signal as an update: the same signed vote, checked and counted the same way, but
 * the sender learns the workflow's verdict. Workers from before it answer "no handler"; senders
 * then fall back to the signal (`client/vote-sender.ts`).
 */
export const voteUpdate = defineUpdate<VoteAnswer, [ApprovalSignal]>('vote');
export const haltSignal = defineSignal<[HaltSignal]>('halt');
export const pauseSignal = defineSignal<[PauseSignal]>('pause');
export const resumeSignal = defineSignal<[ResumeSignal]>('resume');
export const raiseBudgetSignal = defineSignal<[BudgetRaiseSignal]>('raiseBudget');
export const stateQuery = defineQuery<SessionStateView>('state');
/**
 * A sequence step a sub-agent's session asks its tree's root about before the call runs (only the
 * worker's `askTreeRoot` activity sends it). A step sent by anyone else adds progress or is denied:
 * the root keeps each step id's answer with its request's digest and the call's time, and the
 * asker checks the answer is for its own request (`policies/tree-sequences.ts`).
 */
export const treeStepUpdate = defineUpdate<TreeStepResult, [TreeStepRequest]>('treeStep');
/** A parent's record of the sub-agent with workflow id `childWorkflowId`, or null when it started none. */
export const spawnRecordQuery = defineQuery<SpawnRecord | null, [string]>('spawnRecord');

/** Search attributes every session carries (fleet controls and listings). */
export const SEARCH_ATTRIBUTES = {
  /** The root agent (the credential's): a sub-agent's sessions carry their root's, so caps and `pause --agent` act on it. */
  agentId: 'GatehouseAgent',
  owner: 'GatehouseOwner',
  mode: 'GatehouseMode',
  tools: 'GatehouseTools',
} as const;
