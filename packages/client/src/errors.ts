/**
 * Typed errors of the client, mirroring the Python client's (`clients/python/src/gatehouse/errors.py`).
 * The gateway answers every error as RFC 9457 problem JSON with a stable `type`
 * `urn:gatehouse:problem:<code>` (gateway/problems.ts); `errorFromProblem` maps one to the most
 * specific class here. Every class derives from `GatehouseError`.
 */
import type { SpawnChildResult } from './types.js';

export const PROBLEM_PREFIX = 'urn:gatehouse:problem:';

/** What a request was, for answers whose code alone is ambiguous (a 404 on a session, a 422 on a proposal). */
export type RequestContext = 'start' | 'session' | 'propose' | 'spawn' | 'poll' | 'other';

export interface ErrorFields {
  /** The problem's `type` URI (`urn:gatehouse:problem:<code>`), or `about:blank`. */
  readonly type?: string;
  readonly status?: number;
  readonly title?: string;
  /** The whole problem body, extra members (`rule`, `errors`, `limit`) included. */
  readonly problem?: Readonly<Record<string, unknown>>;
  /** Seconds the gateway asked to wait before trying again (`Retry-After`). */
  readonly retryAfter?: number;
  readonly cause?: unknown;
}

/** Base of every error the client throws for an answer of the gateway, or for a call it could not make. */
export class GatehouseError extends Error {
  readonly type: string;
  readonly status: number | undefined;
  readonly title: string | undefined;
  readonly detail: string;
  readonly problem: Readonly<Record<string, unknown>>;
  readonly retryAfter: number | undefined;

  constructor(detail: string, fields: ErrorFields = {}) {
    super(detail, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = new.target.name;
    this.type = fields.type ?? 'about:blank';
    this.status = fields.status;
    this.title = fields.title;
    this.detail = detail;
    this.problem = fields.problem ?? {};
    this.retryAfter = fields.retryAfter;
  }

  /** The stable part of `type` after `urn:gatehouse:problem:`. */
  get code(): string {
    return this.type.startsWith(PROBLEM_PREFIX) ? this.type.slice(PROBLEM_PREFIX.length) : this.type;
  }

  /** The rule the gateway or worker named (e.g. `credential.expired`, `start.policy-ref`), when it did. */
  get rule(): string | undefined {
    const rule = this.problem['rule'];
    return typeof rule === 'string' ? rule : undefined;
  }
}

/** The client cannot be set up: no gateway URL, or not a URL. */
export class ConfigurationError extends GatehouseError {}

/** No agent credential: set `GATEHOUSE_AGENT_TOKEN` (from `gatehouse agents create`) or pass `token`. */
export class MissingCredentialError extends GatehouseError {}

/** 401: no credential, or one the gateway does not accept (bad signature, expired, revoked). */
export class AuthenticationError extends GatehouseError {}

/** 403: the credential may not do this (e.g. act on another agent's session). */
export class ForbiddenError extends GatehouseError {}

/** 403: the worker refused the start (credential, policy, identity, parent); `rule` names why. */
export class SessionStartRefusedError extends ForbiddenError {}

/** `spawnChild`: the sub-agent was denied or its approval expired; `result` says why. */
export class SubAgentDeniedError extends SessionStartRefusedError {
  /** The spawn result, when the gateway answered one. */
  get result(): SpawnChildResult | undefined {
    const result = this.problem['result'];
    return typeof result === 'object' && result !== null ? (result as SpawnChildResult) : undefined;
  }

  static of(result: SpawnChildResult): SubAgentDeniedError {
    const reasons = result.reasons.map((r) => r.message).join('; ') || result.status;
    return new SubAgentDeniedError(`sub-agent \`${result.sessionId}\` was not started: ${reasons}`, { type: `${PROBLEM_PREFIX}start-refused`, problem: { result } });
  }
}

/** 404 on something other than a session (e.g. an unknown proposal id). */
export class NotFoundError extends GatehouseError {}

/** 404: no session of this id. */
export class SessionNotFoundError extends NotFoundError {}

/** 409. */
export class ConflictError extends GatehouseError {}

/** 409: the session has ended or was halted; it accepts nothing more. */
export class SessionClosedError extends ConflictError {}

/** 409 on a start: a session with this id exists (session ids are never reused). */
export class SessionExistsError extends ConflictError {}

/** 413: the request body is over the gateway's size cap. */
export class ProposalTooLargeError extends GatehouseError {}

/** 422 (or 415): the request does not match the gateway's schema; `errors` lists what and where. */
export class InvalidRequestError extends GatehouseError {
  get errors(): readonly { readonly path?: string; readonly message?: string; readonly code?: string }[] {
    const errors = this.problem['errors'];
    return Array.isArray(errors) ? errors.filter((e): e is Record<string, string> => typeof e === 'object' && e !== null) : [];
  }
}

/** 422 on a proposal: it is not a proposal at all (bad shape, unknown fields); nothing was decided. */
export class InvalidProposalError extends InvalidRequestError {}

/** 429: too many requests or open sessions for this agent; `retryAfter` says how long to wait. */
export class RateLimitedError extends GatehouseError {}

/** 503: the gateway cannot reach Temporal right now; `retryAfter` says when to try again. */
export class ServiceUnavailableError extends GatehouseError {}

/**
 * The request got no answer: no gateway at that URL, it timed out, or the connection dropped. From
 * `propose` or `waitFor`, `proposalId` names the proposal: it may have reached the gateway (and
 * run), so read its outcome with `session.waitFor(err.proposalId)` rather than proposing it again.
 */
export class GatewayUnreachableError extends GatehouseError {
  /** The proposal the request sent or read (its `Idempotency-Key`); undefined for any other call. */
  readonly proposalId: string | undefined;

  constructor(detail: string, fields: ErrorFields & { readonly proposalId?: string } = {}) {
    super(detail, fields);
    this.proposalId = fields.proposalId;
  }
}

/** The gateway answered something this client does not understand (not JSON, an unexpected shape). */
export class ProtocolError extends GatehouseError {}

type ErrorClass = new (detail: string, fields?: ErrorFields) => GatehouseError;

const BY_CODE: Readonly<Record<string, ErrorClass>> = {
  unauthorized: AuthenticationError,
  forbidden: ForbiddenError,
  'forbidden-origin': ForbiddenError,
  'start-refused': SessionStartRefusedError,
  'not-found': NotFoundError,
  'session-exists': SessionExistsError,
  'session-closed': SessionClosedError,
  'body-too-large': ProposalTooLargeError,
  'unsupported-media-type': InvalidRequestError,
  'invalid-request': InvalidRequestError,
  'invalid-proposal': InvalidProposalError,
  'rate-limited': RateLimitedError,
  'too-many-sessions': RateLimitedError,
  'too-many-in-flight': RateLimitedError,
  unavailable: ServiceUnavailableError,
};

const BY_STATUS: Readonly<Record<number, ErrorClass>> = {
  401: AuthenticationError,
  403: ForbiddenError,
  404: NotFoundError,
  409: ConflictError,
  413: ProposalTooLargeError,
  415: InvalidRequestError,
  422: InvalidRequestError,
  429: RateLimitedError,
  503: ServiceUnavailableError,
};

function classFor(code: string, status: number, context: RequestContext): ErrorClass {
  const cls = BY_CODE[code] ?? BY_STATUS[status] ?? GatehouseError;
  if (cls === NotFoundError && (context === 'session' || context === 'propose' || context === 'spawn')) return SessionNotFoundError;
  if (cls === InvalidRequestError && status === 422 && context === 'propose') return InvalidProposalError;
  if (cls === SessionStartRefusedError && context === 'spawn') return SubAgentDeniedError;
  return cls;
}

/** Seconds of a `Retry-After` header: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const when = Date.parse(text);
  return Number.isNaN(when) ? undefined : Math.max(0, (when - now) / 1000);
}

/** The typed error of an error answer: `body` is its parsed problem JSON (or whatever else it was). */
export function errorFromProblem(status: number, body: unknown, retryAfter?: string | null, context: RequestContext = 'other'): GatehouseError {
  const problem: Record<string, unknown> = typeof body === 'object' && body !== null && !Array.isArray(body) ? { ...(body as Record<string, unknown>) } : {};
  const type = typeof problem['type'] === 'string' ? problem['type'] : 'about:blank';
  const code = type.startsWith(PROBLEM_PREFIX) ? type.slice(PROBLEM_PREFIX.length) : '';
  const title = typeof problem['title'] === 'string' ? problem['title'] : undefined;
  const rawDetail = problem['detail'];
  const detail =
    typeof rawDetail === 'string' && rawDetail !== ''
      ? rawDetail
      : title ?? (typeof body === 'string' && body.trim() !== '' ? body.trim().slice(0, 500) : `the gateway answered HTTP ${status}`);
  const Cls = classFor(code, status, context);
  const seconds = parseRetryAfter(retryAfter);
  return new Cls(detail, { type, status, problem, ...(title === undefined ? {} : { title }), ...(seconds === undefined ? {} : { retryAfter: seconds }) });
}
