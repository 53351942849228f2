/**
 * One running session, behind the handlers `session.ts` sets: the shared state (`session-core`)
 * and the parts that act on it, each in a file named for its concern —
 * `lifecycle` (start, carry, end), `proposals` (the gate pipeline), `tool-run` (running a call),
 * `approval-desk` (requests, escalation, signed votes), `fleet-controls` (halt, pause, resume,
 * budget raise), `sub-agents`, and `session-view` (the state query). Decisions are `policies/`'s.
 *
 * Workflow-safe: pure policy engine, activity proxies, workflow timers and signals only.
 */
import { ApplicationFailure, currentUpdateInfo } from '@temporalio/workflow';
import { ApprovalDesk } from './approval-desk';
import type { CarriedSession } from './carried';
import {
  SESSION_ERROR_TYPES,
  type ApprovalSignal,
  type VoteAnswer,
  type BudgetRaiseSignal,
  type EndInput,
  type HaltSignal,
  type PauseSignal,
  type ProposeResult,
  type ResumeSignal,
  type SessionProposal,
  type SessionStartInput,
  type SessionStateView,
  type SessionSummary,
  type SpawnChildInput,
  type SpawnChildResult,
  type SpawnRecord,
} from './contract';
import { onHalt, onPause, onRaiseBudget, onResume } from './fleet-controls';
import { DEFAULT_IDLE_MINUTES } from '../policies/document';
import { nowMs } from './clock';
import { carrySession, endSession, finishAuditFailed, finishHalted, startSession } from './lifecycle';
import { propose } from './proposals';
import type { SerialQueue } from './queue';
import { SessionCore } from './session-core';
import { sessionView } from './session-view';
import { spawnChild } from './sub-agents';
import { assertTreeStep, onTreeStep } from './tree-steps';
import type { TreeStepRequest, TreeStepResult } from '../policies/tree-sequences';

export class SessionRuntime {
  readonly #core: SessionCore;
  readonly #desk: ApprovalDesk;

  constructor(input: SessionStartInput, workflowId: string) {
    this.#core = new SessionCore(input, workflowId);
    this.#desk = new ApprovalDesk(this.#core);
  }

  get queue(): SerialQueue {
    return this.#core.queue;
  }

  /** The start input the next run continues with (a sub-agent's as its parent's record gave it). */
  get input(): SessionStartInput {
    return this.#core.input;
  }

  /** See patches.ts. */
  get patchesAtStart(): boolean {
    return this.#core.patchesAtStart;
  }

  get summary(): SessionSummary | undefined {
    return this.#core.summary;
  }

  get halted(): boolean {
    return this.#core.halted;
  }

  /** Validator part shared by every update: nothing is accepted after `end` or `halt`. */
  assertOpen(): void {
    const core = this.#core;
    if (core.halted) throw ApplicationFailure.nonRetryable(`session \`${core.sessionId}\` was halted: nothing more is accepted`, SESSION_ERROR_TYPES.sessionClosed);
    if (core.endRequested || core.summary) throw ApplicationFailure.nonRetryable(`session \`${core.sessionId}\` has ended: nothing more is accepted`, SESSION_ERROR_TYPES.sessionClosed);
  }

  start(carried?: CarriedSession): Promise<void> {
    return startSession(this.#core, carried);
  }

  carry(): CarriedSession {
    return carrySession(this.#core);
  }

  end(e: EndInput): Promise<SessionSummary> {
    return endSession(this.#core, e);
  }

  finishHalted(): Promise<void> {
    return finishHalted(this.#core);
  }

  /** True once an audit write failed for good: the session ends with an alert. */
  get auditFailed(): boolean {
    return this.#core.audit.failure !== undefined;
  }

  finishAuditFailed(): Promise<void> {
    return finishAuditFailed(this.#core);
  }

  /**
   * The id of the update being handled, noted as handled. Temporal hands an accepted update to a run
   * once; a second time, this is a stale copy of the run (its worker was frozen past the task's
   * timeout, then went on): it throws, which fails the task, so the run is replayed from its history
   * instead of handling the update again (under the next proposal number: its tool ran twice).
   * Called in an update handler itself, where the update's id is known.
   */
  #firstHandling(): string | undefined {
    const id = currentUpdateInfo()?.id;
    if (id === undefined) return undefined;
    if (this.#core.handledUpdates.has(id)) throw new Error(`update \`${id}\` was already handled by this copy of the run: it is stale, and its task fails`);
    this.#core.handledUpdates.add(id);
    return id;
  }

  propose(p: SessionProposal): Promise<ProposeResult> {
    const core = this.#core;
    const id = this.#firstHandling();
    core.touchedAt = nowMs();
    // Keyed by its update id: a copy of this run handling the same update again finds its ledger entry.
    const updateId = core.ledgerKeyByUpdate && p.idempotencyKey === undefined ? id : undefined;
    return propose(core, this.#desk, updateId === undefined ? p : { ...p, idempotencyKey: `update:${updateId}` });
  }

  spawnChild(c: SpawnChildInput): Promise<SpawnChildResult> {
    this.#firstHandling();
    this.#core.touchedAt = nowMs();
    return spawnChild(this.#core, this.#desk, c);
  }

  /** Restarts the idle clock now (a call in flight has settled). */
  touch(): void {
    this.#core.touchedAt = nowMs();
  }

  /** The worker's history bound this session started with (undefined: none recorded). */
  get historyLimit(): number | undefined {
    return this.#core.historyLimit;
  }

  /** Workflow time the idle clock counts from at this run's start (undefined: the run's start). */
  get idleFrom(): number | undefined {
    return this.#core.idleFrom;
  }

  set idleFrom(at: number | undefined) {
    this.#core.idleFrom = at;
  }

  /** Workflow time of the last proposal or spawn accepted (0 when none was). */
  get touchedAt(): number {
    return this.#core.touchedAt;
  }

  /** How long the session may sit with nothing in flight and no call before it ends (its policy's `idleMinutes`). */
  get idleMs(): number {
    return (this.#core.policy.document.idleMinutes ?? DEFAULT_IDLE_MINUTES) * 60_000;
  }

  onApproval(envelope: ApprovalSignal): Promise<VoteAnswer> {
    return this.#desk.onApproval(envelope);
  }

  onHalt(h: HaltSignal): Promise<void> {
    return onHalt(this.#core, h);
  }

  onPause(s: PauseSignal): Promise<void> {
    return onPause(this.#core, s);
  }

  onResume(envelope: ResumeSignal): Promise<void> {
    return onResume(this.#core, this.#desk, envelope);
  }

  onRaiseBudget(envelope: BudgetRaiseSignal): Promise<void> {
    return onRaiseBudget(this.#core, this.#desk, envelope);
  }

  /** A sub-agent's sequence step, decided against the tree's progress this root keeps. */
  treeStep(req: TreeStepRequest): Promise<TreeStepResult> {
    return onTreeStep(this.#core, req);
  }

  assertTreeStep(req: unknown): void {
    assertTreeStep(this.#core, req);
  }

  /** What this run recorded of the sub-agent `childWorkflowId` before starting it (null: none). */
  spawnRecord(childWorkflowId: string): SpawnRecord | null {
    return typeof childWorkflowId === 'string' ? this.#core.spawns.get(childWorkflowId) ?? null : null;
  }

  view(): SessionStateView {
    return sessionView(this.#core, this.#desk);
  }
}
