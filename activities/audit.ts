/**
 * Audit activities: the session workflow's writes to the audit store. Arguments in events are
 * redacted with the catalog's `redactArgs` before they are stored, whatever the workflow sent.
 * Every call is idempotent (the store skips a (sessionId, seq) it already has), so Temporal may
 * retry them freely. Node-only.
 */
import { ApplicationFailure } from '@temporalio/common';
import { AuditError } from '../audit/errors';
import type { AuditStore } from '../audit/store';
import type { AuditEventInput, SessionPatch, SessionRecord } from '../audit/types';
import { redactArgs, type ToolCatalog } from './tools/catalog';
import { SESSION_ERROR_TYPES } from '../workflows/contract';

export interface AuditActivityDeps {
  readonly store: Pick<AuditStore, 'startSession' | 'append' | 'patchSession' | 'raiseAlert'>;
  readonly catalog: ToolCatalog;
}

export function createAuditActivities(deps: AuditActivityDeps) {
  const { store, catalog } = deps;
  const redact = (events: readonly AuditEventInput[]): AuditEventInput[] =>
    events.map((e) => (e.args === undefined || e.tool === undefined ? e : { ...e, args: redactArgs(catalog, e.tool, e.args) }));

  return {
    /**
     * Records the session row (once) and its first events. A session id that already belongs to
     * another run (a reused workflow id) is refused: its trail is never spliced onto.
     */
    async startSessionRecord(rec: SessionRecord, events: readonly AuditEventInput[]): Promise<void> {
      const owner = await store.startSession(rec);
      if (owner.firstRunId !== (rec.firstRunId ?? null)) {
        const message = `session id \`${rec.sessionId}\` is already used by another run: session ids are never reused`;
        await store.raiseAlert(rec.sessionId, 'start.session-reused', message, rec.startedAt);
        throw ApplicationFailure.nonRetryable(message, SESSION_ERROR_TYPES.sessionIdReused, { rule: 'start.session-reused', message });
      }
      if (events.length > 0) await store.append(redact(events));
    },
    async appendAudit(events: readonly AuditEventInput[]): Promise<void> {
      try {
        await store.append(redact(events));
      } catch (err) {
        throw unretryable(err);
      }
    },
    /** An alert outside the session's chain: for when the chain itself cannot be written. */
    async raiseSessionAlert(sessionId: string, rule: string, message: string, at: string): Promise<void> {
      await store.raiseAlert(sessionId, rule, message, at);
    },
    async patchSession(sessionId: string, patch: SessionPatch): Promise<void> {
      await store.patchSession(sessionId, patch);
    },
  };
}

/**
 * What retrying cannot fix, as a non-retryable failure: an audit error that says so, and a value
 * PostgreSQL refuses (SQLSTATE class 22, data exception; 54, a program limit such as nesting).
 * Anything else (the database away) is rethrown and retried within the `io` bound.
 */
function unretryable(err: unknown): unknown {
  if (err instanceof AuditError && !err.retryable) return ApplicationFailure.nonRetryable(err.message, err.type);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (code.startsWith('22') || code.startsWith('54'))) {
    const message = err instanceof Error ? err.message : String(err);
    return ApplicationFailure.nonRetryable(`the audit store refused the events: ${message}`, SESSION_ERROR_TYPES.auditUnstorable, { code });
  }
  return err;
}
