/**
 * Errors of the audit layer. Each has a stable `type` (Temporal retry policies and callers name
 * it) and says whether retrying can help: the store's activity retries the retryable ones.
 */

/** Base class: a stable `type` and whether a retry can succeed. */
export abstract class AuditError extends Error {
  abstract readonly type: string;
  abstract readonly retryable: boolean;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Thrown when PostgreSQL cannot be reached or dropped the connection: retry later. */
export class AuditUnavailableError extends AuditError {
  readonly type = 'AuditUnavailableError';
  readonly retryable = true;
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

/**
 * Thrown when an event arrives before its predecessor (`seq - 1` is not recorded). The workflow
 * writes in order, so this guards bugs and overlapping retries; retrying lets the predecessor land.
 */
export class AuditOrderError extends AuditError {
  readonly type = 'AuditOrderError';
  readonly retryable = true;
  constructor(readonly sessionId: string, readonly seq: number) {
    super(`event ${seq} of session \`${sessionId}\` arrived before event ${seq - 1}: events are appended in sequence order`);
  }
}

/**
 * Thrown when an event's (session, seq) is already recorded with different content: not a retry
 * (a retry carries the same event) but another writer on the same chain, such as a reused session
 * id. Nothing of the append is written and an alert is raised; retrying cannot help.
 */
export class AuditConflictError extends AuditError {
  readonly type = 'AuditConflictError';
  readonly retryable = false;
  constructor(readonly sessionId: string, readonly seq: number, readonly storedHash: string, readonly attemptedHash: string) {
    super(`event ${seq} of session \`${sessionId}\` is already recorded with different content: the audit trail is never rewritten`);
  }
}

/** Thrown when an event cannot be recorded as given (bad seq, unparsable time): a caller bug. */
export class AuditInputError extends AuditError {
  readonly type = 'AuditInputError';
  readonly retryable = false;
}

/** Thrown when a session id names no recorded session. */
export class UnknownSessionError extends AuditError {
  readonly type = 'UnknownSessionError';
  readonly retryable = false;
  constructor(readonly sessionId: string) {
    super(`unknown session \`${sessionId}\`: no such session in the audit trail`);
  }
}

/** Thrown when the audit tables are missing (migrations not applied to this database). */
export class AuditSchemaMissingError extends AuditError {
  readonly type = 'AuditSchemaMissingError';
  readonly retryable = false;
  constructor(detail: string) {
    super(`the audit tables are missing from this database: ${detail}: apply the migrations (\`gatehouse start\` does)`);
  }
}

/** Thrown when a command-line argument or a file is malformed; nothing was changed. */
export class AuditUsageError extends AuditError {
  readonly type = 'AuditUsageError';
  readonly retryable = false;
}

/** SQLSTATE classes and socket errors that mean "the database is not there right now". */
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
]);
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/**
 * Maps a driver error to an audit error: connection failures become `AuditUnavailableError`
 * (retryable), a missing table `AuditSchemaMissingError`; anything else is returned unchanged.
 */
export function classifyPgError(err: unknown): unknown {
  if (err instanceof AuditError) return err;
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (code === '42P01') return new AuditSchemaMissingError(message);
  if (code !== undefined && (UNAVAILABLE_SOCKET_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'))) {
    return new AuditUnavailableError(`audit database unavailable: ${message}`, code);
  }
  // node-pg reports a dropped or timed-out connection without a code.
  if (/Connection terminated|timeout exceeded when trying to connect|connection timeout/i.test(message)) {
    return new AuditUnavailableError(`audit database unavailable: ${message}`, code);
  }
  return err;
}
