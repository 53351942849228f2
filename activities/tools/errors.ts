/**
 * Errors of the tool layer. Each has a stable `type` (the name a Temporal retry policy lists as
 * non-retryable) and a `retryable` flag: runTool retries the retryable ones per the tool's policy
 * and records the others as a permanent failure. Node-only module (activities side).
 */

/** A structured problem with a tool call's arguments, keyed on a `code`, with a dotted `path`. */
export interface ToolIssue {
  readonly code: string;
  readonly path: string;
  readonly message: string;
}

/** Thrown by handlers (and the runtime) for any failure of a tool call. */
export class ToolError extends Error {
  /** Stable machine name, e.g. `NotFound`, `VolumeInUse`. */
  readonly type: string;
  /** True when running the same call again may succeed (a transient failure). */
  readonly retryable: boolean;
  readonly details?: Readonly<Record<string, unknown>>;

  constructor(type: string, message: string, opts: { retryable?: boolean; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ToolError';
    this.type = type;
    this.retryable = opts.retryable ?? false;
    if (opts.details) this.details = opts.details;
  }
}

/** Thrown when a tool name is not in the catalog. */
export class UnknownToolError extends ToolError {
  readonly tool: string;
  constructor(tool: string) {
    super('UnknownToolError', `unknown tool \`${tool}\``);
    this.name = 'UnknownToolError';
    this.tool = tool;
  }
}

/** Thrown when arguments do not match a tool's input schema. */
export class ToolArgumentsError extends ToolError {
  readonly tool: string;
  readonly issues: readonly ToolIssue[];
  constructor(tool: string, issues: readonly ToolIssue[]) {
    const first = issues[0];
    super('ToolArgumentsError', `invalid arguments for tool \`${tool}\`: ${first ? `${first.path || '(root)'}: ${first.message}` : 'rejected'}`, {
      details: { issues },
    });
    this.name = 'ToolArgumentsError';
    this.tool = tool;
    this.issues = issues;
  }
}

/** Thrown when a handler's result does not match the tool's output schema (its write is rolled back). */
export class ToolOutputError extends ToolError {
  constructor(tool: string, message: string) {
    super('ToolOutputError', `tool \`${tool}\` returned an invalid result: ${message}`);
    this.name = 'ToolOutputError';
  }
}

/** Thrown when a catalog is built with two tools of one name, or an invalid definition. */
export class CatalogError extends Error {
  readonly type = 'CatalogError';
  constructor(message: string) {
    super(message);
    this.name = 'CatalogError';
  }
}

/** SQLSTATE classes/codes of PostgreSQL that mean "try again later". */
const TRANSIENT_SQLSTATE = /^(08|53|57P0[1-3]|40001|40P01|55P03|57014)/;
/** Node network errors that mean the other side was not reachable for now. */
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * Turns anything a handler threw into a ToolError. `nonRetryable` (from the tool's retry policy)
 * forces the listed types to be permanent. Unknown errors are treated as transient, so a bug is
 * retried a bounded number of times (the tool's maxAttempts), never forever.
 */
export function classifyError(err: unknown, nonRetryable: readonly string[] = []): ToolError {
  let out: ToolError;
  if (err instanceof ToolError) {
    out = err;
  } else if (isPgError(err)) {
    const transient = TRANSIENT_SQLSTATE.test(err.code);
    out = new ToolError(transient ? 'DatabaseUnavailable' : 'DatabaseError', `database error ${err.code}: ${err.message}`, {
      retryable: transient,
      cause: err,
    });
  } else if (err instanceof Error && TRANSIENT_NODE_CODES.has(codeOf(err) ?? '')) {
    out = new ToolError('ConnectionError', `connection error: ${err.message}`, { retryable: true, cause: err });
  } else {
    const message = err instanceof Error ? err.message : String(err);
    out = new ToolError('ToolHandlerError', message, { retryable: true, cause: err });
  }
  if (out.retryable && nonRetryable.includes(out.type)) {
    return new ToolError(out.type, out.message, { retryable: false, cause: out, ...(out.details ? { details: { ...out.details } } : {}) });
  }
  return out;
}

function isPgError(err: unknown): err is Error & { code: string } {
  // pg's DatabaseError carries a five-character SQLSTATE in `code`.
  return err instanceof Error && /^[0-9A-Z]{5}$/.test(codeOf(err) ?? '') && 'severity' in err;
}

function codeOf(err: Error): string | undefined {
  const code = (err as Error & { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
