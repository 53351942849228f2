/**
 * Maps the Gatehouse client's typed errors (and Temporal's) to problems. Anything unknown is
 * rethrown and answered as a 500 by the server's error handler.
 */
import { WorkflowUpdateFailedError, isGrpcServiceError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  InvalidProposalError,
  SessionClosedError,
  SessionExistsError,
  SessionNotFoundError,
  SessionStartRefusedError,
  SubAgentDeniedError,
  mapSessionError,
} from '../client';
import { Problem } from './problems';

/** The problem for an error of a call on session `sessionId`. */
export function toProblem(sessionId: string, err: unknown): Problem {
  if (err instanceof Problem) return err;
  let mapped: unknown = err;
  try {
    mapSessionError(sessionId, err);
  } catch (e) {
    mapped = e;
  }
  if (mapped instanceof SessionNotFoundError) return new Problem('not-found', `no session \`${sessionId}\``);
  if (mapped instanceof SessionClosedError) return new Problem('session-closed', mapped.message);
  if (mapped instanceof SessionExistsError) return new Problem('session-exists', mapped.message);
  if (mapped instanceof InvalidProposalError) return new Problem('invalid-proposal', mapped.message);
  if (mapped instanceof SessionStartRefusedError) return new Problem('start-refused', mapped.message, mapped.rule ? { rule: mapped.rule } : {});
  if (mapped instanceof SubAgentDeniedError) return new Problem('start-refused', mapped.message, { result: mapped.result });
  if (mapped instanceof WorkflowUpdateFailedError && mapped.cause instanceof ApplicationFailure) {
    return new Problem('invalid-proposal', mapped.cause.message);
  }
  // gRPC UNAVAILABLE (14): the gateway cannot reach Temporal right now (the SDK may wrap it: a query's ServiceError).
  if (unavailable(mapped)) return new Problem('unavailable', 'temporal is unreachable: try again shortly', {}, 5);
  throw mapped;
}

/** A gRPC error of status `code`, itself or as the cause of the SDK's wrapper (two levels at most). */
export function hasGrpcCode(err: unknown, code: number, depth = 0): boolean {
  if (isGrpcServiceError(err)) return err.code === code;
  return depth < 2 && err instanceof Error && hasGrpcCode(err.cause, code, depth + 1);
}

/** gRPC UNAVAILABLE (14). */
const unavailable = (err: unknown): boolean => hasGrpcCode(err, 14);
