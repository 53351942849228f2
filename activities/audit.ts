/**
 * Audit activities: the session workflow's writes to the audit store. Arguments in events are
 * redacted with the catalog's `redactArgs` before they are stored, whatever the workflow sent.
 * Every call is idempotent (the store skips a (sessionId, seq) it already has), so Temporal may
 * retry them freely. Node-only.
 */
import type { AuditStore } from '../audit/store';
import type { AuditEventInput, SessionPatch, SessionRecord } from '../audit/types';
import { redactArgs, type ToolCatalog } from './tools/catalog';

export interface AuditActivityDeps {
  readonly store: Pick<AuditStore, 'startSession' | 'append' | 'patchSession'>;
  readonly catalog: ToolCatalog;
}

export function createAuditActivities(deps: AuditActivityDeps) {
  const { store, catalog } = deps;
  const redact = (events: readonly AuditEventInput[]): AuditEventInput[] =>
    events.map((e) => (e.args === undefined || e.tool === undefined ? e : { ...e, args: redactArgs(catalog, e.tool, e.args) }));

  return {
    /** Records the session row (once) and its first events. */
    async startSessionRecord(rec: SessionRecord, events: readonly AuditEventInput[]): Promise<void> {
      await store.startSession(rec);
      if (events.length > 0) await store.append(redact(events));
    },
    async appendAudit(events: readonly AuditEventInput[]): Promise<void> {
      await store.append(redact(events));
    },
    async patchSession(sessionId: string, patch: SessionPatch): Promise<void> {
      await store.patchSession(sessionId, patch);
    },
  };
}
