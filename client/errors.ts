/**
 * Typed errors of the Gatehouse client, each with a stable `type`, and the mapping from the
 * Temporal client's errors to them.
 */
import { WorkflowNotFoundError } from '@temporalio/common';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { SESSION_ERROR_TYPES, type SpawnChildResult } from '../workflows/contract';

/** Thrown when no session has this id. */
export class SessionNotFoundError extends Error {
  readonly type = 'SessionNotFoundError';
  constructor(readonly sessionId: string, options?: { cause?: unknown }) {
    super(`no session \`${sessionId}\``, options);
    this.name = 'SessionNotFoundError';
  }
}

/** Thrown when a session has ended or was halted: it accepts nothing more. */
export class SessionClosedError extends Error {
  readonly type = SESSION_ERROR_TYPES.sessionClosed;
  constructor(readonly sessionId: string, message?: string, options?: { cause?: unknown }) {
    super(message ?? `session \`${sessionId}\` is closed: nothing more is accepted`, options);
    this.name = 'SessionClosedError';
  }
}

/** Thrown when the session's update validator rejects a proposal: it is not a proposal at all. */
export class InvalidProposalError extends Error {
  readonly type = SESSION_ERROR_TYPES.invalidProposal;
  constructor(readonly sessionId: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidProposalError';
  }
}

/** Thrown by `spawnChild` when the sub-agent was denied or its approval expired. */
export class SubAgentDeniedError extends Error {
  readonly type = 'SubAgentDeniedError';
  constructor(readonly sessionId: string, readonly result: SpawnChildResult) {
    super(`sub-agent \`${result.sessionId}\` was not started: ${result.reasons.map((r) => r.message).join('; ') || result.status}`);
    this.name = 'SubAgentDeniedError';
  }
}

/** Thrown by `startSession` when a session with this id already exists. */
export class SessionExistsError extends Error {
  readonly type = 'SessionExistsError';
  constructor(readonly sessionId: string, options?: { cause?: unknown }) {
    super(`session \`${sessionId}\` already exists`, options);
    this.name = 'SessionExistsError';
  }
}

/** Thrown by `startSession` when the policy sent with it does not parse. */
export class InvalidPolicyError extends Error {
  readonly type = SESSION_ERROR_TYPES.invalidPolicy;
  constructor(message: string, readonly issues: readonly { code: string; path: string; message: string }[]) {
    super(message);
    this.name = 'InvalidPolicyError';
  }
}

/** Thrown by `startSession` when the worker refused the start (credential, policy, identity, parent). */
export class SessionStartRefusedError extends Error {
  readonly type = SESSION_ERROR_TYPES.startRefused;
  constructor(readonly sessionId: string, message: string, readonly rule?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SessionStartRefusedError';
  }
}

/** Thrown when a call needs a credential or key the caller does not hold. */
export class MissingCredentialError extends Error {
  readonly type = 'MissingCredentialError';
  constructor(message: string) {
    super(message);
    this.name = 'MissingCredentialError';
  }
}

/** Thrown by `approve` / `deny` when the session has no pending approval of that id. */
export class ApprovalNotPendingError extends Error {
  readonly type = 'ApprovalNotPendingError';
  constructor(readonly approvalId: string) {
    super(`no pending approval \`${approvalId}\``);
    this.name = 'ApprovalNotPendingError';
  }
}

/** Thrown when an approval id is not of the form `<sessionId>:<n>`. */
export class InvalidApprovalIdError extends Error {
  readonly type = 'InvalidApprovalIdError';
  constructor(readonly approvalId: string) {
    super(`invalid approval id \`${approvalId}\`: expected \`<sessionId>:<proposal number>\``);
    this.name = 'InvalidApprovalIdError';
  }
}

function isCompletedError(err: unknown): boolean {
  const text = err instanceof Error ? `${err.message} ${(err as { details?: string }).details ?? ''}` : String(err);
  return /already completed|workflow execution already|is not running|completed/i.test(text);
}

/** The session workflow ended (ended, halted, terminated, timed out) after it accepted the update, before answering it. */
export function endedAfterAccepting(err: unknown): boolean {
  return err instanceof WorkflowUpdateFailedError && (err.cause as { type?: unknown } | undefined)?.type === 'AcceptedUpdateCompletedWorkflow';
}

/** Maps an error of a call on a session to the client's typed errors (or rethrows it). */
export function mapSessionError(sessionId: string, err: unknown): never {
  if (endedAfterAccepting(err)) throw new SessionClosedError(sessionId, undefined, { cause: err });
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) {
      if (cause.type === SESSION_ERROR_TYPES.invalidProposal) throw new InvalidProposalError(sessionId, cause.message, { cause: err });
      if (cause.type === SESSION_ERROR_TYPES.sessionClosed) throw new SessionClosedError(sessionId, cause.message, { cause: err });
    }
    throw err;
  }
  if (err instanceof WorkflowNotFoundError) {
    if (isCompletedError(err)) throw new SessionClosedError(sessionId, undefined, { cause: err });
    throw new SessionNotFoundError(sessionId, { cause: err });
  }
  if (err instanceof WorkflowExecutionAlreadyStartedError) throw new SessionExistsError(sessionId, { cause: err });
  const code = (err as { code?: unknown })?.code;
  // gRPC NOT_FOUND (5) / FAILED_PRECONDITION (9) from an update or signal on a closed workflow.
  if (code === 5) throw new SessionNotFoundError(sessionId, { cause: err });
  if (code === 9 || isCompletedError(err)) throw new SessionClosedError(sessionId, undefined, { cause: err });
  throw err;
}
