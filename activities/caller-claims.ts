/**
 * Which session each session activity's input claims to act for, and `guardActivities`, which
 * runs the caller check (caller.ts) before every one of them. The table is typed by
 * `SessionActivities`: an activity added there without its claims does not compile. Inputs are
 * read defensively: whatever a foreign caller sends, the check runs before the activity does.
 */
import type { ApprovalRequest } from '../approvals/types';
import type { CallerCheck, CallerClaims } from './caller';
import type { SessionActivities } from './types';

type ClaimsTable = { readonly [K in keyof SessionActivities]: (...args: Parameters<SessionActivities[K]>) => CallerClaims };

/** The `sessionId` of each element of a list (a foreign caller may send anything). */
function sessionsOf(list: unknown): unknown[] {
  return Array.isArray(list) ? list.map((e) => (e as { sessionId?: unknown } | null)?.sessionId) : [];
}

/** The ids of leases handed back (each scoped to the session that took it). */
function leaseIdsOf(list: unknown): unknown[] {
  return Array.isArray(list) ? list.map((e) => (e as { leaseId?: unknown } | null)?.leaseId) : [];
}

function approvalClaims(req: ApprovalRequest | undefined, ids: readonly unknown[]): CallerClaims {
  return { sessionIds: [req?.sessionId], workflowIds: [req?.workflowId], scoped: [req?.approvalId, ...ids] };
}

export const CALLER_CLAIMS: ClaimsTable = {
  loadSessionContext: (input) => ({ sessionIds: [input?.sessionId] }),
  refuseSessionStart: (sessionId) => ({ sessionIds: [sessionId] }),
  startSessionRecord: (rec, events) => ({ sessionIds: [rec?.sessionId, ...sessionsOf(events)], workflowIds: [rec?.workflowId] }),
  appendAudit: (events) => ({ sessionIds: sessionsOf(events) }),
  patchSession: (sessionId) => ({ sessionIds: [sessionId] }),
  // Read-only: arguments checked, blast radius counted in a rolled-back transaction, intents scored.
  prepareCall: () => ({}),
  runTool: (input) => ({ sessionIds: [input?.sessionId, ...sessionsOf(input?.before)], scoped: [input?.idempotencyKey] }),
  scoreIntent: () => ({}),
  compareIntents: () => ({}),
  storeApproval: (req) => approvalClaims(req, []),
  requestApproval: (req) => approvalClaims(req, []),
  escalateApproval: (req, e) => approvalClaims(req, [e?.approvalId]),
  resolveApproval: (req, r) => approvalClaims(req, [r?.approvalId]),
  raiseSessionAlert: (sessionId) => ({ sessionIds: [sessionId] }),
  reserveAcrossSessions: (input) => ({ sessionIds: [input?.request?.sessionId], scoped: [input?.request?.reservationId, ...leaseIdsOf(input?.request?.returns)] }),
  // The root is derived from the caller's own session id, so only that id is claimed.
  askTreeRoot: (input) => ({ sessionIds: [input?.sessionId] }),
  returnLeases: (input) => ({ sessionIds: [input?.request?.sessionId], scoped: [input?.request?.returnId, ...leaseIdsOf(input?.request?.returns)] }),
};

/** The activities, each running the caller check before anything else. */
export function guardActivities(activities: SessionActivities, check: CallerCheck): SessionActivities {
  const guarded: Record<string, (...args: never[]) => Promise<unknown>> = {};
  for (const name of Object.keys(CALLER_CLAIMS) as (keyof SessionActivities)[]) {
    const run = activities[name] as (...args: unknown[]) => Promise<unknown>;
    const claims = CALLER_CLAIMS[name] as (...args: unknown[]) => CallerClaims;
    guarded[name] = async (...args: unknown[]) => {
      await check.verify(name, claims(...args));
      return run(...args);
    };
  }
  return guarded as unknown as SessionActivities;
}
