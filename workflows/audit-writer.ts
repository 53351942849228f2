/**
 * The session's one writer to the audit trail: numbers events in order (`seq`) and appends them
 * through the audit activity one batch after another, so the chain sees them in seq order even
 * when a signal handler records while a proposal is running.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { AuditEventInput, AuditEventKind } from '../audit/types';
import type { RuleId } from '../policies/rules';
import { io } from './activities';
import { iso, nowMs } from './clock';
import { SESSION_ERROR_TYPES } from './contract';

/**
 * Seqs held for one tool call whose arguments `runTool` checks before writing (`hold()`): its
 * events take the next seqs only if it runs; events made meanwhile are numbered after it.
 */
export interface AuditHold {
  /** The call's own event, numbered from the held seqs in the order made. */
  event(kind: AuditEventKind, fields?: Partial<AuditEventInput>): AuditEventInput;
  /** The next held seq (for the event the tool activity writes). */
  nextSeq(): number;
  /** Ends the hold: `used` true keeps the held seqs, false gives them back; later calls do nothing. */
  release(used: boolean): void;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class AuditWriter {
  /** Last seq used (carried across continue-as-new). */
  seq = 0;
  #tail: Promise<void> = Promise.resolve();
  /** Batches recorded and not landed yet (`idle`): counted in the reactions that already exist. */
  #pending = 0;
  readonly #landed = (): void => {
    this.#pending -= 1;
  };
  /** A lazy hold's gate: puts the hold on the chain only when something is recorded during it. */
  #arm: (() => void) | undefined;
  /** Events made during a hold, numbered when it ends. */
  #deferred: Mutable<AuditEventInput>[] | undefined;
  /**
   * Why an append failed for good (after the `io` retry bound, or a value the store refuses). From
   * then on nothing more is appended (the chain would have a hole) and the session ends.
   */
  failure: string | undefined;
  /** Called once, when `failure` is set: the session stops taking work. */
  onFailure: (() => void) | undefined;

  constructor(readonly sessionId: string) {}

  /** Reserves the next seq (for an event another activity writes, e.g. a tool's result). */
  nextSeq(): number {
    return ++this.seq;
  }

  event(kind: AuditEventKind, fields: Partial<AuditEventInput> = {}): AuditEventInput {
    if (this.#deferred) {
      const later: Mutable<AuditEventInput> = { ...fields, sessionId: this.sessionId, seq: 0, kind, at: iso(nowMs()) };
      this.#deferred.push(later);
      return later;
    }
    return { ...fields, sessionId: this.sessionId, seq: this.nextSeq(), kind, at: iso(nowMs()) };
  }

  /**
   * Holds the next seqs for one call: until `release`, other events are numbered after the call's,
   * and batches recorded meanwhile wait. A released-unused hold leaves no gap in the sequence.
   * Call after `settled()`, one hold at a time (proposals are handled one at a time).
   */
  hold(lazy = false): AuditHold {
    if (this.#deferred) throw new Error('audit seqs are already held');
    this.#deferred = [];
    let held = this.seq;
    let ended = false;
    let release: () => void = () => undefined;
    const gate = (): void => {
      this.#arm = undefined;
      const released = new Promise<void>((resolve) => (release = resolve));
      this.#tail = this.#tail.then(() => released);
    };
    // `lazy` (the lean proposal path): no gate promise unless a batch is recorded during the hold.
    if (lazy) this.#arm = gate;
    else gate();
    return {
      event: (kind, fields = {}) => ({ ...fields, sessionId: this.sessionId, seq: ++held, kind, at: iso(nowMs()) }),
      nextSeq: () => ++held,
      release: (used) => {
        if (ended) return;
        ended = true;
        if (used) this.seq = held;
        for (const e of this.#deferred ?? []) e.seq = this.nextSeq();
        this.#deferred = undefined;
        this.#arm = undefined;
        release();
      },
    };
  }

  /** Appends events after every earlier batch (one writer per session, chained). */
  record(events: AuditEventInput[]): Promise<void> {
    this.#arm?.();
    this.#pending += 1;
    // After a failure nothing more is written, and later records resolve: the session is halted and
    // ends, and a signal handler that records (a halt, a vote) must not fail the workflow meanwhile.
    const next = this.#tail.then(() => (this.failure === undefined ? io.appendAudit(events).catch((err: unknown) => this.#failed(err)) : undefined));
    // `then(f, f)` settles in the same turn `catch` did: the chain's timing is unchanged.
    this.#tail = next.then(this.#landed, this.#landed);
    return next;
  }

  /** True when nothing recorded is still landing and no seqs are held: `settled()` need not be awaited. */
  get idle(): boolean {
    return this.#pending === 0 && this.#deferred === undefined;
  }

  /** Marks the trail unwritable and rejects with why (the record that failed). */
  #failed(err: unknown): never {
    this.failure ??= err instanceof ActivityFailure && err.cause ? err.cause.message : err instanceof Error ? err.message : String(err);
    this.onFailure?.();
    throw ApplicationFailure.nonRetryable(`the audit trail of session \`${this.sessionId}\` could not be written (${this.failure}): the session ends`, SESSION_ERROR_TYPES.auditUnwritable);
  }

  /** An `alert` event naming a catalogued rule. */
  alert(rule: RuleId, message: string, detail: Record<string, unknown> = {}, fields: Partial<AuditEventInput> = {}): Promise<void> {
    return this.record([this.event('alert', { ...fields, detail: { rule, message, ...detail } })]);
  }

  /** Resolves once every batch recorded so far has landed (or failed). */
  settled(): Promise<void> {
    this.#arm?.();
    return this.#tail;
  }
}
