/**
 * The state and behaviour of one running session, behind the handlers `session.ts` sets. One
 * instance per workflow run. Every mutation of the policy state happens inside a task of the
 * serial queue, so proposals see each other's effects in acceptance order.
 *
 * Workflow-safe: pure policy engine, activity proxies, workflow timers and signals only.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  ParentClosePolicy,
  condition,
  currentUpdateInfo,
  getExternalWorkflowHandle,
  patched,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ApprovalRequest } from '../approvals/types';
import type { AuditEventInput, AuditEventKind } from '../audit/types';
import type { SessionToolDescriptor, StartRefusal } from '../activities/types';
import { approvalParts, approvalTimeoutMs, checkSignedDecision, checkVote, resolveVoter, type DecisionKind, type Keyset, type SignedDecision } from '../policies/trust';
import {
  advance,
  budgetLeft,
  withBudgetRaised,
  childBudget,
  compilePolicy,
  estimateRequest,
  evaluate,
  inheritedTransitions,
  initialSessionState,
  sessionMode,
  withIntentScore,
  type CompiledPolicy,
  type PolicyDocument,
  type SessionState,
} from '../policies';
import type { ApprovalRequirement, Decision, Proposal, ProposalFacts, Reason, SessionMode, ToolInfo } from '../policies/types';
import { io, local, runToolFor } from './activities';
import { ApprovalWait, type ApprovalOutcome } from './approval-wait';
import type { CarriedSession, IntentAction } from './carried';
import {
  SESSION_WORKFLOW_TYPE,
  haltSignal,
  sessionWorkflowId,
  type ActionView,
  type ApprovalSignal,
  type BudgetRaiseSignal,
  type EndInput,
  type FinalState,
  type HaltSignal,
  type PauseSignal,
  type ProposeResult,
  type ProposeStatus,
  type ResumeSignal,
  type SessionProposal,
  type SessionStartInput,
  type SessionStateView,
  type SessionSummary,
  type SpawnChildInput,
  type SpawnChildResult,
} from './contract';
import { callDigest } from './digest';
import { approvalGroupMembers, intentThreshold, subAgentRequirement, withChildBudgetTaken } from './policy-view';
import { SerialQueue, type QueueStep } from './queue';
import { SESSION_CLOSED } from './validate';
import { checkStart } from './start-gate';
import { AGENT_KEY, MODE_KEY, OWNER_KEY, TOOLS_KEY } from './search-attributes';
import type { agentSession } from './session';
import { traceApprovalWait, traceDecision, traceProposal } from './telemetry';

const LAST_ACTIONS = 20;
const INTENT_ACTIONS = 50;
/**
 * Patch id: `runTool` scores the intent of the call it executed, instead of a `scoreIntent` local
 * activity after it. Sessions recorded before the patch replay with the separate activity.
 */
const INTENT_IN_RUN_TOOL = 'intent-scored-in-run-tool';

/** Error types of a refused start: the workflow fails with them so the client can tell why. */
const START_REFUSAL_TYPES = ['SessionStartRefusedError', 'SessionIdReusedError'];

/** Re-throws an activity's start refusal as the workflow's own failure (same type, message and details). */
async function startRefusals<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type && START_REFUSAL_TYPES.includes(cause.type)) {
      throw ApplicationFailure.create({ message: cause.message, type: cause.type, nonRetryable: true, details: cause.details ? [...cause.details] : [] });
    }
    throw err;
  }
}

/** Workflow time: inside the sandbox `Date.now()` is the deterministic time of the workflow task. */
function nowMs(): number {
  return Date.now();
}
function iso(ms: number): string {
  return new Date(ms).toISOString();
}

type Counters = { -readonly [K in keyof SessionStateView['counters']]: number };

export class SessionRuntime {
  readonly queue = new SerialQueue();
  readonly sessionId: string;
  summary: SessionSummary | undefined;
  halted = false;

  #input: SessionStartInput;
  #workflowId: string;
  /** What signed decisions bind, with the workflow id: the first run of this session. */
  #firstRunId: string;
  /** From the verified credential (or the real parent), never from the start input's say-so. */
  #agentId = '';
  #owner = '';
  #principal = '';
  #policyName = '';
  #keyset: Keyset = { development: false, keys: [], slackUsers: [] };
  #usedNonces = new Set<string>();
  #endRequested = false;
  #policy: CompiledPolicy | undefined;
  #policyDocument: unknown;
  #descriptors = new Map<string, SessionToolDescriptor>();
  #state: SessionState | undefined;
  #mode: SessionMode = 'normal';
  #counters: Counters = { proposals: 0, executed: 0, denied: 0, failed: 0, expired: 0, tokens: 0 };
  #seq = 0;
  #proposalSeq = 0;
  #paused = false;
  #pausedTools = new Set<string>();
  #lastActions: ActionView[] = [];
  #intentActions: IntentAction[] = [];
  #intentScore: number | undefined;
  #toolsUsed = new Set<string>();
  #children: string[] = [];
  #flagged = false;
  #startedAt = '';
  #runs = 1;
  #haltedBy: HaltSignal | undefined;
  #auditTail: Promise<void> = Promise.resolve();
  #ready: Promise<void> = Promise.resolve();
  #attributes = '';
  #approvals = new Map<string, ApprovalWait>();
  /** Approval ids already decided (kept so a late click is recognised and recorded as such). */
  #decidedApprovals = new Set<string>();

  constructor(input: SessionStartInput, workflowId: string) {
    this.#input = input;
    this.#workflowId = workflowId;
    this.#firstRunId = workflowInfo().firstExecutionRunId;
    this.sessionId = input.sessionId ?? (workflowId.startsWith('session-') ? workflowId.slice('session-'.length) : workflowId);
  }

  // ---------------------------------------------------------------- start, carry, finish

  /**
   * Checks what the start may claim, snapshots the policy, catalog and keyset (or restores a
   * carried run), records the session start. A refused start fails the workflow.
   */
  start(carried?: CarriedSession): Promise<void> {
    this.#ready = this.queue.run(async () => {
      const info = workflowInfo();
      const gate = checkStart(this.#input, carried, {
        attempt: info.attempt,
        ...(info.continuedFromExecutionRunId ? { continuedFromExecutionRunId: info.continuedFromExecutionRunId } : {}),
        ...(info.parent ? { parentWorkflowId: info.parent.workflowId } : {}),
        ...(info.cronSchedule ? { cronSchedule: info.cronSchedule } : {}),
      });
      if (!gate.ok) return this.#refuseStart(gate.refusal);
      if (carried) {
        this.#restore(carried);
        this.#compile(carried.policyDocument, carried.descriptors);
        this.#state = carried.state as SessionState;
        this.#mode = sessionMode(this.#state);
        this.#upsertAttributes();
        return { value: undefined };
      }
      const ctx = await startRefusals(
        io.loadSessionContext({
          sessionId: this.sessionId,
          policyDocumentGiven: this.#input.policy !== undefined,
          ...(this.#input.credential !== undefined ? { credential: this.#input.credential } : {}),
          ...(gate.child ? { child: gate.child } : { ...(this.#input.agentId !== undefined ? { agentId: this.#input.agentId } : {}), ...(this.#input.owner !== undefined ? { owner: this.#input.owner } : {}) }),
          ...(this.#input.policyRef !== undefined ? { policyRef: this.#input.policyRef } : {}),
        }),
      );
      this.#agentId = ctx.identity.agentId;
      this.#owner = ctx.identity.owner;
      this.#principal = ctx.identity.principal;
      this.#policyName = ctx.policyName;
      this.#keyset = ctx.keyset;
      this.#compile(ctx.policyDocument, ctx.descriptors);
      const now = nowMs();
      this.#startedAt = iso(now);
      this.#state = initialSessionState(this.policy, {
        startedAt: now,
        ...(this.#input.budget ? { budget: this.#input.budget } : {}),
        ...(this.#input.mandate ? { mandate: this.#input.mandate } : {}),
        ...(gate.child && this.#input.inheritedTransitions !== undefined ? { inheritedTransitions: this.#input.inheritedTransitions as never } : {}),
      });
      this.#mode = sessionMode(this.#state);
      const parent = gate.child ? this.#input.parentSessionId : undefined;
      await startRefusals(
        io.startSessionRecord(
          {
            sessionId: this.sessionId,
            workflowId: this.#workflowId,
            firstRunId: this.#firstRunId,
            agentId: this.#agentId,
            owner: this.#owner,
            intent: this.#input.intent,
            ...(parent ? { parentSessionId: parent } : {}),
            policyHash: this.policy.hash,
            policy: this.#policyDocument,
            startedAt: this.#startedAt,
          },
          [
            this.#event('session-started', {
              detail: {
                agentId: this.#agentId,
                owner: this.#owner,
                intent: this.#input.intent,
                policy: this.#policyName,
                policyHash: this.policy.hash,
                firstRunId: this.#firstRunId,
                ...(ctx.identity.credentialId ? { credentialId: ctx.identity.credentialId } : {}),
                ...(parent ? { parentSessionId: parent } : {}),
                ...(this.#input.budget ? { budget: this.#input.budget } : {}),
              },
            }),
          ],
        ),
      );
      this.#upsertAttributes();
      return { value: undefined };
    });
    return this.#ready;
  }

  /** Raises the refusal's alert (an activity), then fails the workflow with it. */
  async #refuseStart(refusal: StartRefusal): Promise<never> {
    return startRefusals(io.refuseSessionStart(this.sessionId, refusal));
  }

  /** Signal handlers record their events only after the session start is recorded (seq order). */
  async #afterStart(): Promise<void> {
    await this.#ready.catch(() => undefined);
  }

  #compile(doc: unknown, descriptors: readonly SessionToolDescriptor[]): void {
    this.#policyDocument = doc;
    this.#descriptors = new Map(descriptors.map((d) => [d.name, d]));
    const tools: ToolInfo[] = descriptors.map((d) => ({
      name: d.name,
      description: d.description,
      effect: d.effect,
      environment: d.environment,
      resource: d.resource,
      estimatesBlastRadius: d.estimatesBlastRadius,
      ...(d.upstream ? { upstream: d.upstream } : {}),
    }));
    try {
      this.#policy = compilePolicy(doc as PolicyDocument, tools);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw ApplicationFailure.nonRetryable(`policy does not compile: ${message}`, 'InvalidPolicyError');
    }
  }

  #restore(c: CarriedSession): void {
    this.#agentId = c.identity.agentId;
    this.#owner = c.identity.owner;
    this.#principal = c.identity.principal ?? c.identity.agentId;
    this.#policyName = c.policyName;
    this.#keyset = c.keyset;
    this.#usedNonces = new Set(c.usedNonces);
    this.#counters = { ...c.counters };
    this.#seq = c.seq;
    this.#proposalSeq = c.proposalSeq;
    this.#paused = c.paused;
    this.#pausedTools = new Set(c.pausedTools);
    this.#lastActions = [...c.lastActions];
    this.#intentActions = [...c.intentActions];
    if (c.intentScore !== undefined) this.#intentScore = c.intentScore;
    this.#toolsUsed = new Set(c.toolsUsed);
    this.#children = [...c.children];
    this.#flagged = c.flaggedForReview;
    this.#startedAt = c.startedAt;
    this.#runs = c.runs + 1;
  }

  /** The whole state, for continue-as-new (taken only between proposals). */
  carry(): CarriedSession {
    return {
      identity: { agentId: this.#agentId, owner: this.#owner, principal: this.#principal },
      policyName: this.#policyName,
      keyset: this.#keyset,
      usedNonces: [...this.#usedNonces],
      policyDocument: this.#policyDocument,
      descriptors: [...this.#descriptors.values()],
      state: this.#state,
      counters: { ...this.#counters },
      seq: this.#seq,
      proposalSeq: this.#proposalSeq,
      paused: this.#paused,
      pausedTools: [...this.#pausedTools],
      lastActions: [...this.#lastActions],
      intentActions: [...this.#intentActions],
      ...(this.#intentScore !== undefined ? { intentScore: this.#intentScore } : {}),
      toolsUsed: [...this.#toolsUsed],
      children: [...this.#children],
      flaggedForReview: this.#flagged,
      startedAt: this.#startedAt,
      runs: this.#runs,
    };
  }

  get policy(): CompiledPolicy {
    if (!this.#policy) throw new Error('session policy is not compiled yet');
    return this.#policy;
  }

  get state(): SessionState {
    if (!this.#state) throw new Error('session state is not initialised yet');
    return this.#state;
  }

  /** Validator part shared by every update: nothing is accepted after `end` or `halt`. */
  assertOpen(): void {
    if (this.halted) throw ApplicationFailure.nonRetryable(`session \`${this.sessionId}\` was halted: nothing more is accepted`, SESSION_CLOSED);
    if (this.#endRequested || this.summary) throw ApplicationFailure.nonRetryable(`session \`${this.sessionId}\` has ended: nothing more is accepted`, SESSION_CLOSED);
  }

  /** `end` update: queued behind every earlier proposal, then the final audit and summary. */
  end(e: EndInput): Promise<SessionSummary> {
    this.#endRequested = true;
    return this.queue.run(async () => {
      if (this.summary) return { value: this.summary };
      const finalState: FinalState = this.halted ? 'halted' : this.#mode === 'closed' ? 'blocked' : 'completed';
      const summary = await this.#finish(finalState, e.reason);
      return { value: summary };
    });
  }

  /** After a halt: wait for the queue to drain (pending work sees the halt and stops), then close. */
  async finishHalted(): Promise<void> {
    await condition(() => this.queue.idle);
    if (this.summary) return;
    await this.#finish('halted', this.#haltedBy ? `halted by ${this.#haltedBy.by}: ${this.#haltedBy.reason}` : 'halted');
  }

  async #finish(finalState: FinalState, reason: string | undefined): Promise<SessionSummary> {
    const now = nowMs();
    const flagged = this.#flagged || this.#mode === 'closed' || this.#mode === 'review' || finalState === 'halted';
    await this.#record([
      this.#event('session-ended', {
        detail: { finalState, mode: this.#mode, counters: { ...this.#counters }, ...(reason ? { reason } : {}) },
      }),
    ]);
    await io.patchSession(this.sessionId, {
      mode: this.#mode,
      finalState,
      endedAt: iso(now),
      counters: { ...this.#counters },
      ...(this.#intentScore !== undefined ? { intentScore: this.#intentScore } : {}),
      flaggedForReview: flagged,
    });
    const summary: SessionSummary = {
      sessionId: this.sessionId,
      finalState,
      mode: this.#mode,
      counters: { ...this.#counters },
      ...(reason ? { reason } : {}),
    };
    this.summary = summary;
    return summary;
  }

  // ---------------------------------------------------------------- proposals

  propose(p: SessionProposal): Promise<ProposeResult> {
    return this.queue.run(async () => {
      await condition(() => this.halted || (!this.#paused && !this.#pausedTools.has(p.tool)));
      return traceProposal(this.sessionId, p.tool, () => this.#handleProposal(p));
    });
  }

  async #handleProposal(p: SessionProposal): Promise<QueueStep<ProposeResult>> {
    const proposalSeq = ++this.#proposalSeq;
    const proposal: Proposal = {
      tool: p.tool,
      args: p.args,
      reasoning: p.reasoning ?? '',
      ...(p.tokenCost !== undefined ? { tokenCost: p.tokenCost } : {}),
      ...(p.idempotencyKey !== undefined ? { idempotencyKey: p.idempotencyKey } : {}),
    };
    const descriptor = this.#descriptors.get(p.tool);
    if (this.halted) {
      return { value: await this.#deny(proposalSeq, proposal, proposal.args, this.#denial('session.halted', `session \`${this.sessionId}\` was halted`)) };
    }
    if (!descriptor) {
      return { value: await this.#deny(proposalSeq, proposal, {}, this.#denial('tool.unknown', `tool \`${p.tool}\` is not in the catalog`)) };
    }
    if (descriptor.upstream && !this.policy.tools.has(p.tool)) {
      // An upstream MCP tool this session's policy does not classify is unknown, whatever its arguments.
      return { value: await this.#deny(proposalSeq, proposal, {}, this.#denial('tool.unknown', `upstream tool \`${p.tool}\` is not classified by the policy; unknown tools are denied`)) };
    }
    // Zod check, redaction and blast-radius estimate: a local activity, in the same workflow task.
    // An upstream tool's policy may name a read tool that estimates its blast radius (resolved here, purely).
    const estimate = descriptor.upstream ? estimateRequest(this.policy.tools.get(p.tool)?.upstream, p.args) : undefined;
    const prep = await local.prepareCall({ tool: p.tool, args: p.args, ...(estimate ? { estimate } : {}) });
    if (!prep.valid) {
      const first = prep.issues?.[0];
      const detail = first ? `${first.path || '(root)'}: ${first.message}` : 'rejected by the schema';
      return {
        value: await this.#deny(proposalSeq, proposal, prep.redactedArgs, this.#denial('tool.args', `invalid arguments for tool \`${p.tool}\`: ${detail}`, this.#tierOf(proposal))),
      };
    }
    let facts: ProposalFacts = prep.blastRadius !== undefined ? { blastRadius: prep.blastRadius } : {};
    let decision = evaluate(this.policy, this.state, proposal, facts, nowMs());
    let requirement = decision.approval;

    // Out-of-band unlock: a call denied only by forbidden transitions carries `decision.unlock`;
    // with `requestUnlock: true` it becomes an approval request that unlocks exactly this call.
    // The call's own gate still applies once unlocked: its approvers must agree as well as the unlock group.
    if (decision.verdict === 'deny' && decision.unlock && p.requestUnlock === true) {
      facts = { ...facts, transitionUnlocked: true };
      const own = evaluate(this.policy, this.state, proposal, facts, nowMs());
      if (own.verdict === 'deny') {
        decision = own;
      } else {
        requirement = { ...decision.unlock, unlocksTransition: true, ...(own.verdict === 'approve' && own.approval ? { alsoRequired: own.approval } : {}) };
        decision = {
          ...decision,
          verdict: 'approve',
          tier: 'approval',
          reasons: [...decision.reasons, ...(own.verdict === 'approve' ? own.reasons : []), { rule: 'transition.unlock', message: 'the agent asked for an out-of-band unlock of this forbidden transition' }],
          approval: requirement,
        };
      }
    }

    if (decision.verdict === 'deny') return { value: await this.#deny(proposalSeq, proposal, prep.redactedArgs, decision) };
    traceDecision(decision);

    if (decision.verdict === 'allow') {
      const before = [this.#event('proposed', this.#proposalFields(proposalSeq, proposal, prep.redactedArgs)), this.#event('decided', { proposalSeq, tool: proposal.tool, decision })];
      return this.#run(proposalSeq, proposal, descriptor, decision, before, prep.redactedArgs);
    }

    // approve: ask humans, wait, then decide again just before running.
    const req = requirement ?? decision.approval;
    if (!req) return { value: await this.#deny(proposalSeq, proposal, prep.redactedArgs, this.#denial('approval.missing', 'the policy asked for approval without saying who approves')) };
    const stateSeen = this.state;
    const digest = callDigest(proposal.tool, proposal.args, this.policy.hash, stateSeen);
    await this.#record([this.#event('proposed', this.#proposalFields(proposalSeq, proposal, prep.redactedArgs)), this.#event('decided', { proposalSeq, tool: proposal.tool, decision })]);
    const outcome = await traceApprovalWait(() => this.#awaitApproval(proposalSeq, proposal, prep.redactedArgs, prep.blastRadius, decision, req, digest));
    if (outcome.status !== 'approved') {
      const status: ProposeStatus = outcome.status === 'expired' ? 'expired' : 'denied';
      const final: Decision = { ...decision, verdict: 'deny', reasons: [...decision.reasons, ...outcome.reasons] };
      this.#apply(proposal, status);
      this.#note(proposalSeq, proposal.tool, status, final.verdict);
      await this.#afterChange();
      return { value: { status, decision: final, approvalId: outcome.approvalId, sequence: proposalSeq } };
    }

    // Approved: the call runs only if it is still the call that was approved.
    const recheck = this.#recheck(proposal, facts, digest, req, outcome.approvers.length);
    if (recheck.verdict === 'deny') {
      await this.#record([this.#event('decided', { proposalSeq, tool: proposal.tool, decision: recheck, approvalId: outcome.approvalId, detail: { stage: 'before-run' } })]);
      this.#apply(proposal, 'denied');
      this.#note(proposalSeq, proposal.tool, 'denied', 'deny');
      await this.#afterChange();
      return { value: { status: 'denied', decision: recheck, approvalId: outcome.approvalId, sequence: proposalSeq } };
    }
    const before = [this.#event('decided', { proposalSeq, tool: proposal.tool, decision: recheck, approvalId: outcome.approvalId, detail: { stage: 'before-run', approvedBy: outcome.approvers } })];
    const ran = await this.#run(proposalSeq, proposal, descriptor, recheck, before, prep.redactedArgs);
    return { value: { ...ran.value, approvalId: outcome.approvalId } };
  }

  /** Re-evaluates an approved call just before it runs: halted, changed or over budget → deny. */
  #recheck(proposal: Proposal, facts: ProposalFacts, digest: string, req: ApprovalRequirement, approvers: number): Decision {
    if (this.halted) return this.#denial('session.halted', `session \`${this.sessionId}\` was halted before the approved call ran`);
    if (callDigest(proposal.tool, proposal.args, this.policy.hash, this.state) !== digest) {
      return this.#denial('approval.stale', 'the session changed after the approval was requested: the approved call no longer matches');
    }
    const again = evaluate(this.policy, this.state, proposal, facts, nowMs());
    if (again.verdict === 'deny') return again;
    if (again.verdict === 'approve' && again.approval && again.approval.approversRequired > Math.max(approvers, req.approversRequired)) {
      return this.#denial('approval.insufficient', `the call now needs ${again.approval.approversRequired} approvers`);
    }
    return { ...again, verdict: 'allow' };
  }

  /**
   * Attempts a call gets for its own failures: the descriptor's, except an upstream MCP tool is
   * retried only when this session's policy classifies it as idempotent (a repeat could repeat its effect).
   */
  #attemptsOf(descriptor: SessionToolDescriptor): number {
    if (!descriptor.upstream) return descriptor.maxAttempts;
    return this.policy.tools.get(descriptor.name)?.upstream?.idempotent === true ? descriptor.maxAttempts : 1;
  }

  /** Runs an allowed call: ONE tool activity that writes `before` ahead of the handler. */
  async #run(
    proposalSeq: number,
    proposal: Proposal,
    descriptor: SessionToolDescriptor,
    decision: Decision,
    before: AuditEventInput[],
    redactedArgs: Readonly<Record<string, unknown>>,
  ): Promise<QueueStep<ProposeResult>> {
    const afterSeq = ++this.#seq;
    const at = nowMs();
    // Earlier audit writes (e.g. from signals) land before this call's write-ahead events.
    await this.#auditTail;
    const idempotencyKey = `${this.sessionId}:${proposal.idempotencyKey ?? `p${proposalSeq}`}`;
    let status: 'executed' | 'failed';
    let result: unknown;
    let error: { type: string; message: string } | undefined;
    let intentScore: number | undefined;
    const action: IntentAction = { tool: proposal.tool, args: redactedArgs, at: iso(at) };
    // The intent a quick call is scored against if it executes (the input `scoreIntent` would get):
    // a local activity's input stays out of the history; a regular activity's would carry it.
    const intent = descriptor.execution === 'local-activity' && patched(INTENT_IN_RUN_TOOL)
      ? { intent: this.#input.intent, actions: [...this.#intentActions, action].slice(-INTENT_ACTIONS), now: iso(at) }
      : undefined;
    try {
      // Temporal keeps the tool's own retry policy (a worker that dies mid-call is retried, and the
      // retry reports an upstream call's unknown outcome); the call's own failures get `attempts`.
      const attempts = this.#attemptsOf(descriptor);
      const r = await runToolFor(descriptor)({
        sessionId: this.sessionId,
        proposalSeq,
        tool: proposal.tool,
        args: proposal.args,
        idempotencyKey,
        before,
        afterSeq,
        at: iso(at),
        ...(intent ? { intent } : {}),
        ...(descriptor.upstream ? { maxAttempts: attempts } : {}),
      });
      status = r.status;
      result = r.result;
      intentScore = r.intentScore;
      if (r.error) error = { type: r.error.type, message: r.error.message };
    } catch (err) {
      // Retries exhausted or a non-retryable error: recorded as a failed call; the session goes on.
      if (!(err instanceof ActivityFailure)) throw err;
      const cause = err.cause;
      status = 'failed';
      error = {
        type: cause instanceof ApplicationFailure && cause.type ? cause.type : (cause?.name ?? 'ActivityFailure'),
        message: cause?.message ?? err.message,
      };
      // `before` again: if no attempt ever started, the write-ahead events are not there yet.
      await this.#record([
        ...before,
        { sessionId: this.sessionId, seq: afterSeq, kind: 'failed', at: iso(nowMs()), proposalSeq, tool: proposal.tool, error: `${error.type}: ${error.message}`, resultStatus: 'failed' },
      ]);
    }
    this.#toolsUsed.add(proposal.tool);
    this.#apply(proposal, status);
    this.#note(proposalSeq, proposal.tool, status, decision.verdict);
    await this.#afterChange();
    const value: ProposeResult = {
      status,
      decision,
      ...(status === 'executed' ? { result } : {}),
      ...(error ? { error } : {}),
      sequence: proposalSeq,
    };
    // Scored before the result returns (by runTool, or a local activity in the same workflow task):
    // the queue is then idle between two proposals, which is when the session may continue as new.
    if (status === 'executed') await this.#scoreIntent(action, intentScore);
    return { value };
  }

  /** After an executed call: intent drift → maybe review mode. `score` when runTool already scored it. */
  async #scoreIntent(action: IntentAction, scored?: number): Promise<void> {
    this.#intentActions.push(action);
    if (this.#intentActions.length > INTENT_ACTIONS) this.#intentActions.splice(0, this.#intentActions.length - INTENT_ACTIONS);
    const score = scored ?? (await local.scoreIntent({ intent: this.#input.intent, actions: [...this.#intentActions], now: iso(nowMs()) })).score;
    this.#intentScore = score;
    this.#state = withIntentScore(this.state, score);
    // The score reaches the session row with a mode change or at the end, not on every call.
    await this.#afterChange({ intentScore: score });
  }

  async #deny(proposalSeq: number, proposal: Proposal, redactedArgs: Readonly<Record<string, unknown>>, decision: Decision): Promise<ProposeResult> {
    traceDecision(decision);
    await this.#record([this.#event('proposed', this.#proposalFields(proposalSeq, proposal, redactedArgs)), this.#event('decided', { proposalSeq, tool: proposal.tool, decision })]);
    this.#apply(proposal, 'denied');
    this.#note(proposalSeq, proposal.tool, 'denied', 'deny');
    await this.#afterChange();
    return { status: 'denied', decision, sequence: proposalSeq };
  }

  /** Feeds an outcome to the policy engine and the counters. */
  #apply(proposal: Proposal, outcome: ProposeStatus): void {
    this.#counters.proposals += 1;
    this.#counters[outcome] += 1;
    if (outcome === 'executed' || outcome === 'failed') this.#counters.tokens += proposal.tokenCost ?? 0;
    this.#state = advance(this.policy, this.state, proposal, outcome, nowMs());
  }

  #note(sequence: number, tool: string, status: ProposeStatus, verdict: Decision['verdict']): void {
    this.#lastActions.push({ sequence, at: iso(nowMs()), tool, status, verdict });
    if (this.#lastActions.length > LAST_ACTIONS) this.#lastActions.splice(0, this.#lastActions.length - LAST_ACTIONS);
  }

  /** Mode changes are audited, patched onto the session row and published as a search attribute. */
  async #afterChange(extra: { intentScore?: number } = {}): Promise<void> {
    const mode = sessionMode(this.state);
    if (mode === this.#mode) {
      this.#upsertAttributes();
      return;
    }
    const from = this.#mode;
    this.#mode = mode;
    if (mode === 'closed' || mode === 'review') this.#flagged = true;
    await this.#record([this.#event('mode-changed', { detail: { from, to: mode, ...(extra.intentScore !== undefined ? { intentScore: extra.intentScore } : {}) } })]);
    await io.patchSession(this.sessionId, { mode, ...(this.#flagged ? { flaggedForReview: true } : {}), ...extra });
    this.#upsertAttributes();
  }

  // ---------------------------------------------------------------- approvals

  async #awaitApproval(
    proposalSeq: number,
    proposal: Proposal,
    redactedArgs: Readonly<Record<string, unknown>>,
    blastRadius: number | undefined,
    decision: Decision,
    requirement: ApprovalRequirement,
    digest: string,
  ): Promise<ApprovalOutcome> {
    const approvalId = `${this.sessionId}:${proposalSeq}`;
    const requestedAt = nowMs();
    const req: ApprovalRequest = {
      approvalId,
      sessionId: this.sessionId,
      workflowId: this.#workflowId,
      firstRunId: this.#firstRunId,
      agentId: this.#agentId,
      owner: this.#owner,
      intent: this.#input.intent,
      proposal,
      redactedArgs,
      ...(blastRadius !== undefined ? { blastRadius } : {}),
      decision,
      requirement,
      callDigest: digest,
      requestedAt: iso(requestedAt),
      deadline: iso(requestedAt + approvalTimeoutMs(requirement)),
      groupMembers: approvalGroupMembers(this.policy, approvalParts(requirement).flatMap((p) => p.groups)),
    };
    const wait = new ApprovalWait(req, { requestedAt, proposalSeq, proposalId: currentUpdateInfo()?.id });
    this.#approvals.set(approvalId, wait);
    await this.#record([
      this.#event('approval-requested', {
        proposalSeq,
        tool: proposal.tool,
        approvalId,
        detail: { requirement, deadline: req.deadline, callDigest: digest, workflowId: this.#workflowId, firstRunId: this.#firstRunId, groupMembers: req.groupMembers },
      }),
    ]);
    await io.requestApproval(req);
    try {
      for (;;) {
        const next = wait.nextDeadline();
        // At least 1 ms: a zero timeout would mean "no timer" in older SDKs (and a patch marker in this one).
        const waitMs = Math.max(1, next.at - nowMs());
        await condition(() => this.halted || wait.outcome !== undefined, waitMs);
        if (this.halted && wait.outcome === undefined) wait.cancel(this.#haltedBy);
        if (wait.outcome) break;
        if (nowMs() < next.at) continue;
        if (next.kind === 'deadline') {
          // Never an automatic approval: the deadline denies.
          wait.expire();
          break;
        }
        const escalation = wait.escalate(iso(nowMs()));
        await this.#record([this.#event('escalated', { proposalSeq, tool: proposal.tool, approvalId, detail: { level: escalation.level, group: escalation.group } })]);
        await io.escalateApproval(req, escalation);
      }
    } finally {
      this.#approvals.delete(approvalId);
      this.#decidedApprovals.add(approvalId);
    }
    const outcome = wait.outcome!;
    const at = iso(nowMs());
    if (outcome.status === 'expired') {
      await this.#record([this.#event('expired', { proposalSeq, tool: proposal.tool, approvalId, detail: { deadline: req.deadline } })]);
    } else if (outcome.status === 'cancelled') {
      await this.#record([this.#event('denied', { proposalSeq, tool: proposal.tool, approvalId, detail: { cancelled: true, reason: 'session halted' } })]);
    }
    await io.resolveApproval(req, {
      approvalId,
      status: outcome.status,
      decidedBy: outcome.status === 'denied' ? outcome.deniedBy : outcome.approvers,
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      at,
    });
    return outcome;
  }

  /**
   * Verifies a signed decision against the keyset snapshotted at start, for this session, at
   * workflow time. A refusal is recorded as an alert and changes nothing else; an accepted one
   * uses up its nonce, so the same envelope never counts twice.
   */
  async #verified<K extends DecisionKind>(kind: K, envelope: unknown): Promise<(Extract<SignedDecision, { kind: K }> & { readonly signer: string }) | undefined> {
    await this.#afterStart();
    const check = checkSignedDecision(envelope, this.#keyset, { kind, workflowId: this.#workflowId, firstRunId: this.#firstRunId, usedNonces: this.#usedNonces }, nowMs());
    if (!check.ok) {
      await this.#alert(check.rule, check.message, { kind, ...(check.keyId ? { keyId: check.keyId.slice(0, 100) } : {}) });
      return undefined;
    }
    this.#usedNonces.add(check.decision.nonce);
    return { ...check.decision, signer: check.key.principal };
  }

  #alert(rule: string, message: string, detail: Record<string, unknown> = {}, fields: Partial<AuditEventInput> = {}): Promise<void> {
    return this.#record([this.#event('alert', { ...fields, detail: { rule, message, ...detail } })]);
  }

  /** `approval` signal: a signed vote, counted only if the one vote rule says so. */
  async onApproval(envelope: ApprovalSignal): Promise<void> {
    const vote = await this.#verified('vote', envelope);
    if (!vote) return;
    const approvalId = vote.approvalId;
    const refuse = (rule: string, message: string, approver?: string): Promise<void> =>
      this.#alert(rule, message, { keyId: vote.keyId, signer: vote.signer, approve: vote.verdict === 'approve' }, { approvalId, ...(approver ? { approver } : {}) });
    const key = this.#keyset.keys.find((k) => k.keyId === vote.keyId)!;
    const voter = resolveVoter(this.#keyset, key, vote);
    if (!voter.ok) return refuse(voter.rule, voter.message);
    const approver = voter.approver;
    const wait = this.#approvals.get(approvalId);
    if (!wait || wait.outcome) {
      const decided = this.#decidedApprovals.has(approvalId) || wait?.outcome !== undefined;
      return refuse(decided ? 'approval.decided' : 'approval.unknown', decided ? `approval \`${approvalId}\` was already decided` : `no pending approval \`${approvalId}\` in this session`, approver);
    }
    if (vote.callDigest !== wait.req.callDigest) return refuse('approval.digest', `the vote was signed for another call than approval \`${approvalId}\` asks about`, approver);
    const check = checkVote(wait.voteContext(), { approver, approve: vote.verdict === 'approve', ...(vote.reason !== undefined ? { reason: vote.reason } : {}) }, nowMs());
    if (!check.counts) return refuse(check.rule, check.message, approver);
    wait.count(check.vote, vote.reason);
    await this.#record([
      this.#event(vote.verdict === 'approve' ? 'approved' : 'denied', {
        proposalSeq: wait.proposalSeq,
        tool: wait.req.proposal.tool,
        approvalId,
        approver,
        detail: {
          ...(vote.reason ? { reason: vote.reason } : {}),
          group: check.group,
          approvers: wait.approvers(),
          required: wait.req.requirement.approversRequired,
          keyId: vote.keyId,
          signer: vote.signer,
          ...(vote.onBehalfOf ? { onBehalfOf: vote.onBehalfOf } : {}),
          envelope,
        },
      }),
    ]);
  }

  // ---------------------------------------------------------------- fleet controls

  async onHalt(h: HaltSignal): Promise<void> {
    if (this.halted || this.summary) return;
    this.halted = true;
    this.#haltedBy = { by: typeof h?.by === 'string' ? h.by : 'unknown', reason: typeof h?.reason === 'string' ? h.reason : '' };
    await this.#afterStart();
    await this.#record([this.#event('halted', { detail: { by: this.#haltedBy.by, reason: this.#haltedBy.reason } })]);
    // Sub-agents stop with their parent.
    await Promise.all(
      this.#children.map(async (childWorkflowId) => {
        try {
          await getExternalWorkflowHandle(childWorkflowId).signal(haltSignal, { by: this.#haltedBy!.by, reason: `parent session halted: ${this.#haltedBy!.reason}` });
        } catch {
          // A child that already finished cannot be halted; nothing to do.
        }
      }),
    );
  }

  /** `pause` signal: stopping needs no signature. */
  async onPause(s: PauseSignal): Promise<void> {
    const tool = typeof s?.tool === 'string' && s.tool !== '' ? s.tool : undefined;
    if (tool) this.#pausedTools.add(tool);
    else this.#paused = true;
    await this.#afterStart();
    const by = typeof s?.by === 'string' ? s.by : 'unknown';
    await this.#record([this.#event('paused', { detail: { by, ...(typeof s?.reason === 'string' ? { reason: s.reason } : {}), ...(tool ? { tool } : {}) } })]);
  }

  /** `resume` signal: going on loosens the gate, so it must be an operator-signed `resume`. */
  async onResume(envelope: ResumeSignal): Promise<void> {
    const resume = await this.#verified('resume', envelope);
    if (!resume) return;
    if (resume.tool) this.#pausedTools.delete(resume.tool);
    else {
      this.#paused = false;
      this.#pausedTools.clear();
    }
    await this.#record([
      this.#event('resumed', { detail: { by: resume.signer, keyId: resume.keyId, ...(resume.reason ? { reason: resume.reason } : {}), ...(resume.tool ? { tool: resume.tool } : {}), envelope } }),
    ]);
  }

  /** `raiseBudget` signal: an operator-signed `budget-raise` lifts the session's caps (never lowers them). */
  async onRaiseBudget(envelope: BudgetRaiseSignal): Promise<void> {
    const raise = await this.#verified('budget-raise', envelope);
    if (!raise) return;
    await this.queue.run(async () => {
      this.#state = withBudgetRaised(this.state, raise.budget);
      await this.#record([
        this.#event('budget-raised', { detail: { by: raise.signer, keyId: raise.keyId, budget: raise.budget, limits: this.state.limits, ...(raise.reason ? { reason: raise.reason } : {}), envelope } }),
      ]);
      return { value: undefined };
    });
  }

  // ---------------------------------------------------------------- sub-agents

  spawnChild(c: SpawnChildInput): Promise<SpawnChildResult> {
    return this.queue.run(async () => {
      await condition(() => this.halted || !this.#paused);
      return { value: await this.#spawn(c) };
    });
  }

  async #spawn(c: SpawnChildInput): Promise<SpawnChildResult> {
    const proposalSeq = ++this.#proposalSeq;
    const childSessionId = c.sessionId ?? `${this.sessionId}.${this.#children.length + 1}`;
    const workflowId = sessionWorkflowId(childSessionId);
    const proposal: Proposal = { tool: 'session.spawnChild', args: { agentId: c.agentId, intent: c.intent, sessionId: childSessionId }, reasoning: c.intent };
    const denied = async (reasons: Reason[], status: 'denied' | 'expired' = 'denied', approvalId?: string, intentScore?: number): Promise<SpawnChildResult> => {
      await this.#record([this.#event('decided', { proposalSeq, tool: proposal.tool, args: proposal.args, detail: { childSessionId, status, reasons } })]);
      return { status, sessionId: childSessionId, workflowId, reasons, ...(approvalId ? { approvalId } : {}), ...(intentScore !== undefined ? { intentScore } : {}) };
    };
    if (this.halted) return denied([{ rule: 'session.halted', message: `session \`${this.sessionId}\` was halted` }]);
    if (this.#mode !== 'normal') return denied([{ rule: 'session.mode', message: `a session in \`${this.#mode}\` mode may not start sub-agents` }]);

    const { score } = await local.compareIntents(c.intent, this.#input.intent);
    const reasons: Reason[] = [];
    let approvalId: string | undefined;
    const threshold = intentThreshold(this.policy);
    if (score < threshold) {
      // A child whose declared intent is far from its parent's needs a human to start it.
      const requirement = subAgentRequirement(this.policy);
      const decision: Decision = {
        verdict: 'approve',
        tier: 'approval',
        reasons: [{ rule: 'intent.child', message: `sub-agent intent scores ${score.toFixed(2)} against the parent's, below ${threshold}` }],
        policyHash: this.policy.hash,
        approval: requirement,
      };
      const digest = callDigest(proposal.tool, proposal.args, this.policy.hash, this.state);
      await this.#record([this.#event('proposed', this.#proposalFields(proposalSeq, proposal, proposal.args)), this.#event('decided', { proposalSeq, tool: proposal.tool, decision })]);
      const outcome = await traceApprovalWait(() => this.#awaitApproval(proposalSeq, proposal, proposal.args, undefined, decision, requirement, digest));
      approvalId = outcome.approvalId;
      if (outcome.status !== 'approved') return denied([...decision.reasons, ...outcome.reasons], outcome.status === 'expired' ? 'expired' : 'denied', approvalId, score);
      if (this.halted) return denied([{ rule: 'session.halted', message: `session \`${this.sessionId}\` was halted` }], 'denied', approvalId, score);
      reasons.push(...decision.reasons, { rule: 'approval.granted', message: `approved by ${outcome.approvers.join(', ')}` });
    }
    const now = nowMs();
    const share = childBudget(this.policy, this.state, now);
    const inherited = inheritedTransitions(this.policy, this.state);
    // The child's share is taken from the parent: both cannot spend it.
    this.#state = withChildBudgetTaken(this.state, share);
    await startChild<typeof agentSession>(SESSION_WORKFLOW_TYPE, {
      workflowId,
      args: [
        {
          sessionId: childSessionId,
          agentId: c.agentId,
          owner: this.#owner,
          intent: c.intent,
          policyRef: this.#policyName,
          parentSessionId: this.sessionId,
          principal: this.#principal,
          budget: share,
          ...(c.mandate ? { mandate: c.mandate } : {}),
          ...(inherited ? { inheritedTransitions: inherited } : {}),
        },
      ],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    this.#children.push(workflowId);
    reasons.push({ rule: 'child.started', message: `sub-agent \`${c.agentId}\` started with its share of the budget` });
    await this.#record([this.#event('decided', { proposalSeq, tool: proposal.tool, args: proposal.args, detail: { childSessionId, workflowId, budget: share, intentScore: score, status: 'started' } })]);
    await this.#afterChange();
    return { status: 'started', sessionId: childSessionId, workflowId, budget: share, intentScore: score, reasons, ...(approvalId ? { approvalId } : {}) };
  }

  // ---------------------------------------------------------------- views and helpers

  view(): SessionStateView {
    const pendingApprovals = [...this.#approvals.values()].filter((w) => !w.outcome).map((w) => w.view());
    const left = this.#policy && this.#state ? budgetLeft(this.#policy, this.#state, nowMs()) : { actions: 0, writes: 0, critical: 0, tokens: 0 };
    return {
      sessionId: this.sessionId,
      workflowId: this.#workflowId,
      firstRunId: this.#firstRunId,
      agentId: this.#agentId,
      owner: this.#owner,
      principal: this.#principal,
      intent: this.#input.intent,
      ...(this.#input.parentSessionId ? { parentSessionId: this.#input.parentSessionId } : {}),
      mode: this.#mode,
      paused: this.#paused || this.#pausedTools.size > 0,
      halted: this.halted,
      ended: this.summary !== undefined || this.#endRequested,
      policyHash: this.#policy?.hash ?? '',
      counters: { ...this.#counters },
      budgetLeft: { actions: left.actions, writes: left.writes, critical: left.critical, tokens: left.tokens },
      ...(this.#intentScore !== undefined ? { intentScore: this.#intentScore } : {}),
      pendingApprovals,
      lastActions: [...this.#lastActions],
    };
  }

  #upsertAttributes(): void {
    // Only on a change: each upsert is a history event.
    const signature = `${this.#mode}|${[...this.#toolsUsed].sort().join(',')}`;
    if (signature === this.#attributes) return;
    this.#attributes = signature;
    upsertSearchAttributes([
      { key: AGENT_KEY, value: this.#agentId },
      { key: OWNER_KEY, value: this.#owner },
      { key: MODE_KEY, value: this.#mode },
      { key: TOOLS_KEY, value: [...this.#toolsUsed].sort() },
    ]);
  }

  #denial(rule: string, message: string, tier: Decision['tier'] = 'blocked'): Decision {
    return { verdict: 'deny', tier, reasons: [{ rule, message }], policyHash: this.#policy?.hash ?? '' };
  }

  #tierOf(proposal: Proposal): Decision['tier'] {
    return evaluate(this.policy, this.state, proposal, {}, nowMs()).tier;
  }

  #proposalFields(proposalSeq: number, proposal: Proposal, redactedArgs: Readonly<Record<string, unknown>>): Partial<AuditEventInput> {
    return {
      proposalSeq,
      tool: proposal.tool,
      args: redactedArgs,
      reasoning: proposal.reasoning,
      ...(proposal.tokenCost !== undefined ? { tokenCost: proposal.tokenCost } : {}),
    };
  }

  #event(kind: AuditEventKind, fields: Partial<AuditEventInput> = {}): AuditEventInput {
    return { ...fields, sessionId: this.sessionId, seq: ++this.#seq, kind, at: iso(nowMs()) };
  }

  /** Appends audit events in seq order (one writer per session, chained). */
  #record(events: AuditEventInput[]): Promise<void> {
    const next = this.#auditTail.then(() => io.appendAudit(events));
    this.#auditTail = next.catch(() => undefined);
    return next;
  }
}
