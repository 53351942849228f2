/**
 * Small waiting helpers for the demo: poll a condition with a pause between tries (never a busy
 * loop), failing with a clear message when it does not come true in time.
 */

/** Thrown when a demo waited for something that did not happen. */
export class DemoTimeoutError extends Error {
  readonly type = 'DemoTimeoutError';
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Calls `probe` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new DemoTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
