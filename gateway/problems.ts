/**
 * RFC 9457 problem details: every error the gateway answers is `application/problem+json`
 * `{ type, title, status, detail, ... }` with a stable `type` of `urn:gatehouse:problem:<code>`.
 */
import type { FastifyReply } from 'fastify';

/** The stable problem codes, with their status and title. */
export const PROBLEMS = {
  unauthorized: { status: 401, title: 'no valid agent credential' },
  forbidden: { status: 403, title: 'not your session' },
  'forbidden-origin': { status: 403, title: 'host or origin not allowed' },
  'start-refused': { status: 403, title: 'session start refused' },
  'not-found': { status: 404, title: 'not found' },
  'session-exists': { status: 409, title: 'session exists' },
  'session-closed': { status: 409, title: 'session closed' },
  'body-too-large': { status: 413, title: 'request body too large' },
  'unsupported-media-type': { status: 415, title: 'unsupported media type' },
  'invalid-request': { status: 422, title: 'invalid request' },
  'invalid-proposal': { status: 422, title: 'invalid proposal' },
  'rate-limited': { status: 429, title: 'too many requests' },
  'too-many-sessions': { status: 429, title: 'too many open sessions' },
  'too-many-in-flight': { status: 429, title: 'too many requests open at once' },
  unavailable: { status: 503, title: 'temporal unavailable' },
  internal: { status: 500, title: 'internal error' },
} as const;

export type ProblemCode = keyof typeof PROBLEMS;

/** The `type` URI of a problem code. */
export function problemType(code: ProblemCode): string {
  return `urn:gatehouse:problem:${code}`;
}

/** Thrown by hooks and handlers; the server's error handler answers it as problem JSON. */
export class Problem extends Error {
  readonly type = 'GatewayProblem';
  constructor(
    readonly code: ProblemCode,
    detail: string,
    readonly extra: Readonly<Record<string, unknown>> = {},
    /** Seconds for a `Retry-After` header (429). */
    readonly retryAfter?: number,
  ) {
    super(detail);
    this.name = 'Problem';
  }

  get status(): number {
    return PROBLEMS[this.code].status;
  }

  body(): Record<string, unknown> {
    return { type: problemType(this.code), title: PROBLEMS[this.code].title, status: this.status, detail: this.message, ...this.extra };
  }
}

/** Writes a problem as the reply. */
export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  if (problem.retryAfter !== undefined) void reply.header('retry-after', String(problem.retryAfter));
  return reply.code(problem.status).type('application/problem+json').send(problem.body());
}

/** JSON Schema of a problem document, for the OpenAPI document. */
export const PROBLEM_JSON_SCHEMA = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', description: '`urn:gatehouse:problem:<code>`' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
    rule: { type: 'string' },
  },
} as const;
