/**
 * What the approver sees is what the approver signs: an approval row (what the CLI lists and
 * Slack shows) is checked against the session workflow's own pending approval (the `state`
 * query), and the call digest is recomputed from the tool and arguments shown. Pure: row + view
 * → verdict with a stable refusal code. `client/decide.ts` runs it before anything is signed.
 */
import { callDigestOver } from '../policies/gate';
import { canonicalJson } from '../policies/hash';
import type { PendingApprovalView, SessionStateView } from '../workflows/contract';
import { refuse, type Refusal } from './check-decision';
import { isRedactionMarker, redactionMarker } from './redaction';
import { REDACTED, type ApprovalRecord } from './types';

/** The session a row's approval id names (`<sessionId>:<proposalSeq>`). */
export function sessionOfApprovalId(approvalId: string): string {
  const i = approvalId.lastIndexOf(':');
  return i > 0 ? approvalId.slice(0, i) : approvalId;
}

/** JSON as stored (undefined members dropped), so a row read back compares with the workflow's value. */
function plain(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

/**
 * True when `shown` is `raw` with some values replaced by their markers and nothing else changed.
 * A marker names the length of the value it stands for, and only that value's
 * (`[REDACTED: 5 characters]` for `debug`, never for `debug; curl evil|sh`); a `[REDACTED]` without
 * a length (a row written before lengths were shown) stands for any value. A marker-shaped string
 * the agent sent as a value claims a length it does not have: it is not the call's.
 */
export function isRedactionOf(shown: unknown, raw: unknown): boolean {
  if (isRedactionMarker(shown)) return shown === REDACTED || shown === redactionMarker(raw);
  if (Array.isArray(shown)) return Array.isArray(raw) && shown.length === raw.length && shown.every((v, i) => isRedactionOf(v, raw[i]));
  if (shown !== null && typeof shown === 'object') {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return false;
    const a = Object.keys(shown).sort();
    const b = Object.keys(raw).sort();
    return a.length === b.length && a.every((k, i) => k === b[i] && isRedactionOf((shown as Record<string, unknown>)[k], (raw as Record<string, unknown>)[k]));
  }
  return shown === raw;
}

/** The session workflow's pending approval for a row, or the refusal that stops a vote on it. */
export type ShownCallCheck = { readonly ok: true; readonly pending: PendingApprovalView } | Refusal;

/**
 * Checks a row against the session's view. Order, fixed: the row names the session its id names
 * → the session waits for this approval → the session's run, agent, owner and intent → tool,
 * digest, policy hash, blast radius, arguments shown → the digest recomputed from the tool and
 * arguments shown (`callDigestOver`) equals the row's and the workflow's.
 */
export function checkShownCall(record: ApprovalRecord, view: SessionStateView | undefined): ShownCallCheck {
  const id = record.approvalId;
  const mismatch = (what: string): Refusal => refuse('call-mismatch', `approval \`${id}\` does not show the call its session waits for: ${what}`);
  if (view === undefined) return refuse('session-gone', `the session of approval \`${id}\` is not running: the approval can no longer be decided`);
  if (view.sessionId !== sessionOfApprovalId(id) || view.workflowId !== record.workflowId) return mismatch(`the row names session workflow \`${record.workflowId}\``);
  const pending = view.pendingApprovals.find((p) => p.approvalId === id);
  if (!pending) return refuse('not-pending', `session \`${view.sessionId}\` is not waiting for approval \`${id}\`: nothing to sign`);
  if (record.firstRunId !== view.firstRunId) return mismatch('another session run');
  if (record.agentId !== view.agentId || record.owner !== view.owner) return mismatch(`the row names agent \`${record.agentId}\` of \`${record.owner}\``);
  if (record.intent !== view.intent) return mismatch('the row shows another intent');
  if (record.tool !== pending.tool) return mismatch(`the row shows tool \`${record.tool}\`, the session asks about \`${pending.tool}\``);
  if (record.callDigest !== pending.callDigest) return mismatch('the row carries another call digest');
  if (pending.args === undefined || pending.redactedArgs === undefined || pending.policyHash === undefined || pending.stateHash === undefined) {
    return mismatch('the session does not show what its digest covers (a worker older than this check)');
  }
  if ((record.decision as { policyHash?: unknown } | null)?.policyHash !== pending.policyHash) return mismatch('the row names another policy');
  if (record.blastRadius !== pending.blastRadius) return mismatch(`the row shows a blast radius of ${record.blastRadius ?? 'none'}, the session measured ${pending.blastRadius ?? 'none'}`);
  if (canonicalJson(plain(record.redactedArgs)) !== canonicalJson(plain(pending.redactedArgs))) return mismatch('the row shows other arguments');
  if (!isRedactionOf(plain(record.redactedArgs), plain(pending.args))) return mismatch('the arguments shown are not the call\'s');
  if (callDigestOver(pending.tool, pending.args, pending.policyHash, pending.stateHash) !== record.callDigest) {
    return mismatch('the digest recomputed from the tool and arguments shown differs from the one to sign');
  }
  return { ok: true, pending };
}
