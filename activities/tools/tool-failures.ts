/**
 * How `runTool` ends a call that failed: whether the failure is final, the outcome it returns, the
 * secrets hidden from its text, and the one-line failure it throws for Temporal to retry.
 */
import { ApplicationFailure } from '@temporalio/common';
import { shownLineAtMost } from '../../approvals/shown-text';
import { scrubString } from '../../audit/chain';
import type { RunToolInput, ToolOutcome } from './run-tool-types';
import type { AnyToolDefinition } from './define';
import { ToolError } from './errors';
import { withoutSecrets } from './redact';

/** True when this failure ends the call: not retryable, or its last attempt. */
export function isFinal(def: AnyToolDefinition, err: ToolError, attempt: number, input: RunToolInput): boolean {
  const attempts = Math.min(def.retry.maxAttempts, input.maxAttempts ?? def.retry.maxAttempts);
  return !(err.retryable && attempt < attempts);
}

export function failed(err: ToolError, latencyMs: number): ToolOutcome {
  // Stored in the ledger as given back: an upstream's message can carry an agent's NUL.
  return { status: 'failed', error: { type: scrubString(err.type), message: scrubString(err.message), retryable: err.retryable }, latencyMs };
}

/** The error with each secret in its message and details replaced by `[REDACTED]`. */
export function hideSecrets(err: ToolError, secrets: readonly string[]): ToolError {
  if (secrets.length === 0) return err;
  return new ToolError(err.type, withoutSecrets(err.message, secrets), { retryable: err.retryable, ...(err.details ? { details: withoutSecrets({ ...err.details }, secrets) } : {}) });
}

/**
 * Most characters of a thrown failure's message. Temporal's worker logs the failure of every
 * attempt (its message, in its stack, on stderr; the activity's span names only the error,
 * `telemetry/activity-interceptors.ts`): a handler's message can echo an agent's argument (`no match for …`).
 */
export const MAX_FAILURE_MESSAGE_CHARS = 1024;

/**
 * A thrown failure's message: one line (line breaks, controls and invisible characters shown as
 * `\uXXXX`, `approvals/shown-text.ts`) of at most `MAX_FAILURE_MESSAGE_CHARS`, so an agent cannot
 * forge log lines or fill the log through a tool's error. Secrets are hidden before (`hideSecrets`),
 * while they still read as written. What the ledger and the trail keep of a final failure is not this.
 */
export function failureMessage(message: string): string {
  return shownLineAtMost(message, MAX_FAILURE_MESSAGE_CHARS);
}

export function toFailure(err: ToolError): ApplicationFailure {
  return ApplicationFailure.create({
    type: err.type,
    message: failureMessage(err.message),
    nonRetryable: !err.retryable,
    details: err.details ? [err.details] : undefined,
  });
}

