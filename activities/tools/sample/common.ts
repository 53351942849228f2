/**
 * Argument types and helpers shared by the sample tools. Every argument an agent can pass is
 * typed and bounded here (uuids, enums, bounded integers, capped string lengths), so no tool
 * ever receives free text that reaches SQL other than as a bound parameter.
 */
import { z } from 'zod';
import { ToolError } from '../errors';

export const customerId = z.string().uuid();
/** A calendar month in UTC, `YYYY-MM`. */
export const period = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected a month like 2026-10');
export const serviceName = z.string().min(2).max(63).regex(/^[a-z][a-z0-9-]+$/, 'expected a service name like `api`');
export const volumeId = z.string().min(5).max(64).regex(/^vol-[a-z0-9-]+$/, 'expected a volume id like `vol-db01`');

/** Thrown (permanently) when the named object does not exist. */
export function notFound(what: string, id: string): ToolError {
  return new ToolError('NotFound', `${what} \`${id}\` not found`, { details: { what, id } });
}

/** `[start, end)` of a `YYYY-MM` month in UTC. */
export function monthRange(month: string): { start: Date; end: Date } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return { start: new Date(Date.UTC(y, m - 1, 1)), end: new Date(Date.UTC(y, m, 1)) };
}

/** `YYYY-MM` of the month before the one `now` falls in (UTC). */
export function previousMonth(now: Date): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** Tools of the sample catalog share these settings unless they say otherwise. */
export const READ = { timeoutMs: 10_000, retry: { maxAttempts: 3, nonRetryable: ['NotFound'] }, idempotent: true } as const;
export const WRITE = { timeoutMs: 30_000, retry: { maxAttempts: 3, nonRetryable: ['NotFound'] } } as const;
