/**
 * The one way a test waits for something it cannot await directly (a row in the audit trail, a
 * pending approval in a query, a poller on a task queue): poll a condition until it holds, and fail
 * with what was awaited once the time is up. Never a fixed sleep standing in for a condition.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface EventuallyOptions {
  /** What is awaited, for the failure message (`timed out after 30000 ms waiting for <what>`). */
  readonly what: string;
  /** How long to keep trying. @default 30_000 */
  readonly timeoutMs?: number;
  /** The pause between tries. @default 50 */
  readonly everyMs?: number;
}

/** Thrown when a condition did not come true within its time. */
export class EventuallyTimeoutError extends Error {
  readonly type = 'EventuallyTimeoutError';
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}

/**
 * Calls `condition` until it returns something other than `undefined` or `false`, and returns
 * that. An error the condition throws fails the wait at once (it is not a "not yet").
 */
export async function eventually<T>(condition: () => T | undefined | false | Promise<T | undefined | false>, options: EventuallyOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) throw new EventuallyTimeoutError(options.what, timeoutMs);
    await sleep(options.everyMs ?? 50);
  }
}
