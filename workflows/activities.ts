/**
 * Activity proxies of the session workflow, with explicit timeouts. Tool calls get one proxy per
 * distinct (execution, timeout, attempts, non-retryable types) of the catalog's descriptors, so
 * every tool runs with its own timeout and retry policy. Types only: no activity code enters the bundle.
 */
import { proxyActivities, proxyLocalActivities, type RetryPolicy } from '@temporalio/workflow';
import type { SessionActivities, SessionToolDescriptor } from '../activities/types';
import { SESSION_ERROR_TYPES } from './contract';

/** Error types of the tool layer that never succeed on a retry. */
export const PERMANENT_TOOL_ERRORS: readonly string[] = ['ToolArgumentsError', 'UnknownToolError', 'ToolOutputError', SESSION_ERROR_TYPES.invalidPolicy];

/** How long an `io` activity is retried (a database restart is ridden out; a lasting failure ends the session). */
export const IO_RETRY_BOUND = '10 minutes';

/**
 * Audit, session record and approval posting: short, retried for at most `IO_RETRY_BOUND`. A write
 * that fails for good ends the session with an alert (`audit-writer.ts`), never retries forever.
 */
export const io = proxyActivities<SessionActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: IO_RETRY_BOUND,
  retry: {
    initialInterval: '200 milliseconds',
    maximumInterval: '10 seconds',
    nonRetryableErrorTypes: [SESSION_ERROR_TYPES.invalidPolicy, 'AuditConflictError', 'AuditInputError', SESSION_ERROR_TYPES.auditUnstorable],
  },
});

/**
 * Argument checks, blast-radius estimates and intent scores: quick, side-effect free, run as local
 * activities inside the workflow task so a gated call costs one server round trip, not three.
 */
export const local = proxyLocalActivities<SessionActivities>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '100 milliseconds', maximumInterval: '5 seconds', maximumAttempts: 10 },
});

const toolProxies = new Map<string, SessionActivities['runTool']>();

/**
 * The `runTool` proxy with this tool's execution, timeout and retry policy. The execution comes
 * from the descriptor the session snapshotted at start (recorded in its history), so a replay
 * always makes the same kind of call.
 */
export function runToolFor(d: SessionToolDescriptor): SessionActivities['runTool'] {
  const nonRetryable = [...new Set([...PERMANENT_TOOL_ERRORS, ...(d.nonRetryable ?? [])])].sort();
  const execution = d.execution ?? 'activity';
  const key = `${execution}|${d.timeoutMs}|${d.maxAttempts}|${nonRetryable.join(',')}`;
  let proxy = toolProxies.get(key);
  if (!proxy) {
    const retry: RetryPolicy = { maximumAttempts: d.maxAttempts, initialInterval: '200 milliseconds', maximumInterval: '5 seconds', nonRetryableErrorTypes: nonRetryable };
    proxy = execution === 'local-activity'
      ? proxyLocalActivities<SessionActivities>({ startToCloseTimeout: d.timeoutMs, retry }).runTool
      : proxyActivities<SessionActivities>({
        startToCloseTimeout: d.timeoutMs,
        // A worker that dies mid-call is noticed within the heartbeat timeout, not the full timeout.
        heartbeatTimeout: Math.min(d.timeoutMs, 10_000),
        retry,
      }).runTool;
    toolProxies.set(key, proxy);
  }
  return proxy;
}
