/**
 * The session's one writer to the audit trail: numbers events in order (`seq`) and appends them
 * through the audit activity one batch after another, so the chain sees them in seq order even
 * when a signal handler records while a proposal is running.
 */
import type { AuditEventInput, AuditEventKind } from '../audit/types';
import type { RuleId } from '../policies/rules';
import { io } from './activities';
import { iso, nowMs } from './clock';

export class AuditWriter {
  /** Last seq used (carried across continue-as-new). */
  seq = 0;
  #tail: Promise<void> = Promise.resolve();

  constructor(readonly sessionId: string) {}

  /** Reserves the next seq (for an event another activity writes, e.g. a tool's result). */
  nextSeq(): number {
    return ++this.seq;
  }

  event(kind: AuditEventKind, fields: Partial<AuditEventInput> = {}): AuditEventInput {
    return { ...fields, sessionId: this.sessionId, seq: this.nextSeq(), kind, at: iso(nowMs()) };
  }

  /** Appends events after every earlier batch (one writer per session, chained). */
  record(events: AuditEventInput[]): Promise<void> {
    const next = this.#tail.then(() => io.appendAudit(events));
    this.#tail = next.catch(() => undefined);
    return next;
  }

  /** An `alert` event naming a catalogued rule. */
  alert(rule: RuleId, message: string, detail: Record<string, unknown> = {}, fields: Partial<AuditEventInput> = {}): Promise<void> {
    return this.record([this.event('alert', { ...fields, detail: { rule, message, ...detail } })]);
  }

  /** Resolves once every batch recorded so far has landed (or failed). */
  settled(): Promise<void> {
    return this.#tail;
  }
}
