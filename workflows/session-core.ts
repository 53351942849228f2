/**
 * The state of one running session, shared by the parts that act on it (lifecycle, proposals,
 * approvals, fleet controls, sub-agents, the view). Every mutation of the policy state happens
 * inside a task of the serial queue, so proposals see each other's effects in acceptance order.
 *
 * Workflow-safe: plain data, the pure policy engine, and activity proxies through the writers.
 */
import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { AuditEventInput } from '../audit/types';
import type { SessionToolDescriptor } from '../activities/types';
import { rootAgentOf } from '../policies/agent-id';
import { advance, sessionMode, type CompiledPolicy, type SessionState } from '../policies';
import type { TreeProgress } from '../policies/tree-sequences';
import type { Keyset } from '../policies/trust';
import type { Decision, Proposal, SessionMode } from '../policies/types';
import { io } from './activities';
import { AuditWriter } from './audit-writer';
import type { IntentAction } from './carried';
import type { DecidedApproval } from './carried-votes';
import type { HeldLease } from './leases';
import { iso, nowMs } from './clock';
import type { ActionView, HaltSignal, PauseSignal, ProposeStatus, SessionStartInput, SessionStateView, SessionSummary, SpawnRecord } from './contract';
import { APPROVAL_HOLDS_PAUSE_AND_DEADLINE, ARGUMENT_BOUNDS_AS_RUN, ESTIMATE_AFTER_DENY_RULES, HALT_REACHES_STARTING_CHILDREN, LEDGER_KEY_BY_UPDATE, SUB_AGENTS_WITHIN_PARENT, HALT_STOPS_UNSTARTED_CALLS, SEQUENCES_ACROSS_TREE, FOUR_EYES_BY_IDENTITY, RATES_SHARED_IN_TREE, INTENT_FAILS_CLOSED, PAUSE_HOLDS_UNSTARTED_CALLS, patchesTakenAtStart, takenAtStart } from './patches';
import { SerialQueue } from './queue';
import { AGENT_KEY, MODE_KEY, OWNER_KEY, TOOLS_KEY } from './search-attributes';

const LAST_ACTIONS = 20;

export type Counters = { -readonly [K in keyof SessionStateView['counters']]: number };

export class SessionCore {
  readonly queue = new SerialQueue();
  readonly sessionId: string;
  /** The start input; a sub-agent's is replaced at start by what its parent's spawn record says. */
  input: SessionStartInput;
  readonly workflowId: string;
  /** What signed decisions bind, with the workflow id: the first run of this session. */
  readonly firstRunId: string;
  /** True in runs that took their patches at start (patches.ts): older patches hold without a marker. */
  readonly patchesAtStart: boolean;
  /** True in runs that key a proposal without its own key by its update id (patches.ts). */
  readonly ledgerKeyByUpdate: boolean;
  /** True in runs that deny a call denied whatever its blast radius before estimating it (patches.ts). */
  readonly estimateAfterDenyRules: boolean;
  /** True in runs whose halt reaches a sub-agent that was starting when it landed (patches.ts). */
  readonly haltReachesStartingChildren: boolean;
  /** True in runs whose argument bounds judge what the tool runs (patches.ts): the policy is compiled with `argumentsAsRun`. */
  readonly argumentBoundsAsRun: boolean;
  /** True in runs whose approved calls wait out a pause, stop at a late halt, and whose votes past the deadline expire (patches.ts). */
  readonly approvalHoldsPauseAndDeadline: boolean;
  /** Allowed or approved calls, not yet run, waiting for a pause to be lifted (the state view's `heldByPause`). */
  readonly heldByPause = new Set<number>();
  /** True in runs whose sub-agents stay within them: halted at its end, paused with it, within its mandate (patches.ts). */
  readonly subAgentsWithinParent: boolean;
  /** True in runs where a halt stops a call not yet handed to `runTool` (patches.ts). */
  readonly haltStopsUnstartedCalls: boolean;
  /** True in runs whose forbidden sequences hold across their session tree (patches.ts). */
  readonly sequencesAcrossTree: boolean;
  /** A spawn shares the rate limits (patch `rates-shared-in-tree`). */
  readonly ratesSharedInTree: boolean;
  /** An executed call nobody could score counts as unaligned (patch `intent-fails-closed`). */
  readonly intentFailsClosed: boolean;
  /** A pause that lands before an allowed call runs holds it (patch `pause-holds-unstarted-calls`). */
  readonly pauseHoldsUnstartedCalls: boolean;
  /** True in runs whose four-eyes rule knows the owner under every name (patches.ts). */
  readonly fourEyesByIdentity: boolean;
  /** The session tree's progress, kept by its root once it spawns (policies/tree-sequences.ts). */
  tree: TreeProgress | undefined = undefined;
  /** Ids of the `propose` and `spawnChild` updates this run has handled (Temporal hands each to a run once). */
  readonly handledUpdates = new Set<string>();
  readonly audit: AuditWriter;

  summary: SessionSummary | undefined;
  halted = false;
  haltedBy: HaltSignal | undefined;
  endRequested = false;
  /** The session start task: signal handlers record only after it (seq order). */
  ready: Promise<void> = Promise.resolve();

  /** From the verified credential (or the real parent), never from the start input's say-so. */
  agentId = '';
  owner = '';
  principal = '';
  /** The root credential's id and issue time (a sub-agent's are its root's): passed on to children. */
  credentialId: string | undefined;
  credentialIssuedAt: string | undefined;
  policyName = '';
  keyset: Keyset = { development: false, keys: [], slackUsers: [] };
  usedNonces = new Set<string>();
  /** Nonce → when its envelope expires: a nonce is carried to the next run until then (`carried-votes.ts`). */
  nonceExpiries = new Map<string, number>();
  /** Approval id → its decision: a late vote is answered `approval.decided`, in this run and the next. */
  decided = new Map<string, DecidedApproval>();
  /** History events after which a run continues as new: the worker's (`sessionHistoryLimit`), at start; then carried. */
  historyLimit: number | undefined;
  /** Workflow time the idle clock counts from at this run's start (a continued run: the last run's). */
  idleFrom: number | undefined;
  policyDocument: unknown;
  descriptors = new Map<string, SessionToolDescriptor>();
  compiled: CompiledPolicy | undefined;
  policyState: SessionState | undefined;
  mode: SessionMode = 'normal';
  counters: Counters = { proposals: 0, executed: 0, denied: 0, failed: 0, expired: 0, tokens: 0 };
  /** Last proposal seq used (proposals and sub-agent requests share it). */
  proposalSeq = 0;
  paused = false;
  pausedTools = new Set<string>();
  lastActions: ActionView[] = [];
  intentActions: IntentAction[] = [];
  intentScore: number | undefined;
  toolsUsed = new Set<string>();
  children: string[] = [];
  /** True once this session's halt went (or is going) to its children: its end need not halt them again. */
  childrenHalted = false;
  /** Pause signals this run handled, numbered as handled (a sub-agent starting meanwhile knows which its start carried). */
  pausesHandled = 0;
  /** The pauses this run forwarded to its children, by number: a child that started meanwhile is sent those it missed. */
  readonly pausesForwarded: { readonly n: number; readonly pause: PauseSignal }[] = [];
  /** Child workflow id → the number of the last pause its start carried (children of this run only). */
  readonly pausesKnown = new Map<string, number>();
  /** Sub-session ids used so far (started or not): the next child is `<sessionId>.<spawnCount + 1>`. */
  spawnCount = 0;
  /** Child workflow id → what this run recorded of it, for the child's `spawnRecord` query. */
  readonly spawns = new Map<string, SpawnRecord>();
  /** Leases of cross-session ledgers this run holds, by `<scope>|<tool>` (handed back before the run ends). */
  readonly leases = new Map<string, HeldLease>();
  /** Workflow time of the last proposal or spawn accepted (0: none yet; the start counts from the run's start). */
  touchedAt = 0;
  flagged = false;
  startedAt = '';
  runs = 1;
  #attributes = '';

  constructor(input: SessionStartInput, workflowId: string) {
    this.input = input;
    this.workflowId = workflowId;
    // First, before the handlers: see patches.ts.
    this.patchesAtStart = patchesTakenAtStart();
    this.ledgerKeyByUpdate = takenAtStart(LEDGER_KEY_BY_UPDATE);
    this.estimateAfterDenyRules = takenAtStart(ESTIMATE_AFTER_DENY_RULES);
    this.haltReachesStartingChildren = takenAtStart(HALT_REACHES_STARTING_CHILDREN);
    this.argumentBoundsAsRun = takenAtStart(ARGUMENT_BOUNDS_AS_RUN);
    this.approvalHoldsPauseAndDeadline = takenAtStart(APPROVAL_HOLDS_PAUSE_AND_DEADLINE);
    this.subAgentsWithinParent = takenAtStart(SUB_AGENTS_WITHIN_PARENT);
    this.haltStopsUnstartedCalls = takenAtStart(HALT_STOPS_UNSTARTED_CALLS);
    this.sequencesAcrossTree = takenAtStart(SEQUENCES_ACROSS_TREE);
    this.fourEyesByIdentity = takenAtStart(FOUR_EYES_BY_IDENTITY);
    this.ratesSharedInTree = takenAtStart(RATES_SHARED_IN_TREE);
    this.intentFailsClosed = takenAtStart(INTENT_FAILS_CLOSED);
    this.pauseHoldsUnstartedCalls = takenAtStart(PAUSE_HOLDS_UNSTARTED_CALLS);
    this.firstRunId = workflowInfo().firstExecutionRunId;
    this.sessionId = input.sessionId ?? (workflowId.startsWith('session-') ? workflowId.slice('session-'.length) : workflowId);
    this.audit = new AuditWriter(this.sessionId);
    // A trail that cannot be written stops the session at once: nothing more may run unrecorded.
    this.audit.onFailure = () => {
      this.halted = true;
    };
  }

  /** The session's declared intent. */
  get intent(): string {
    return this.input.intent;
  }

  get policy(): CompiledPolicy {
    if (!this.compiled) throw new Error('session policy is not compiled yet');
    return this.compiled;
  }

  get state(): SessionState {
    if (!this.policyState) throw new Error('session state is not initialised yet');
    return this.policyState;
  }

  set state(next: SessionState) {
    this.policyState = next;
  }

  /** Waits for the start task (a refused start still lets signal handlers return). */
  async afterStart(): Promise<void> {
    await this.ready.catch(() => undefined);
  }

  /** Feeds an outcome to the policy engine and the counters. */
  apply(proposal: Proposal, outcome: ProposeStatus): void {
    this.counters.proposals += 1;
    this.counters[outcome] += 1;
    if (outcome === 'executed' || outcome === 'failed') this.counters.tokens += proposal.tokenCost ?? 0;
    this.state = advance(this.policy, this.state, proposal, outcome, nowMs());
  }

  /** Keeps the last actions for the state view. */
  note(sequence: number, tool: string, status: ProposeStatus, verdict: Decision['verdict']): void {
    this.lastActions.push({ sequence, at: iso(nowMs()), tool, status, verdict });
    if (this.lastActions.length > LAST_ACTIONS) this.lastActions.splice(0, this.lastActions.length - LAST_ACTIONS);
  }

  /** Mode changes are audited, patched onto the session row and published as a search attribute. */
  async afterChange(extra: { intentScore?: number } = {}): Promise<void> {
    const mode = sessionMode(this.state);
    if (mode === this.mode) {
      this.upsertAttributes();
      return;
    }
    const from = this.mode;
    this.mode = mode;
    if (mode === 'closed' || mode === 'review') this.flagged = true;
    await this.audit.record([this.audit.event('mode-changed', { detail: { from, to: mode, ...(extra.intentScore !== undefined ? { intentScore: extra.intentScore } : {}) } })]);
    await io.patchSession(this.sessionId, { mode, ...(this.flagged ? { flaggedForReview: true } : {}), ...extra });
    this.upsertAttributes();
  }

  /**
   * `afterChange` for the lean proposal path: no promise when the mode is unchanged (the usual
   * case), the same records and patch as `afterChange` when it moved.
   */
  changed(extra: { intentScore?: number } = {}): Promise<void> | undefined {
    if (sessionMode(this.state) !== this.mode) return this.afterChange(extra);
    this.upsertAttributes();
    return undefined;
  }

  /** Publishes agent, owner, mode and tools used; only on a change (each upsert is a history event). */
  upsertAttributes(): void {
    const signature = `${this.mode}|${[...this.toolsUsed].sort().join(',')}`;
    if (signature === this.#attributes) return;
    this.#attributes = signature;
    upsertSearchAttributes([
      // The root agent: a sub-agent counts and is paused as its root's, never as another agent's.
      { key: AGENT_KEY, value: rootAgentOf(this.principal || this.agentId) },
      { key: OWNER_KEY, value: this.owner },
      { key: MODE_KEY, value: this.mode },
      { key: TOOLS_KEY, value: [...this.toolsUsed].sort() },
    ]);
  }

  /** The audit fields of a proposal (its arguments redacted). */
  proposalFields(proposalSeq: number, proposal: Proposal, redactedArgs: Readonly<Record<string, unknown>>): Partial<AuditEventInput> {
    return {
      proposalSeq,
      tool: proposal.tool,
      args: redactedArgs,
      reasoning: proposal.reasoning,
      ...(proposal.tokenCost !== undefined ? { tokenCost: proposal.tokenCost } : {}),
    };
  }
}
