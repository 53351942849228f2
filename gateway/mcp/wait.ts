/** Waiting on a promise for a bounded time, with a tick for progress and an abort signal. */

export type Bounded<T> = { readonly done: true; readonly value: T } | { readonly done: false };

/**
 * Resolves with the promise's value if it settles within `ms`, else `{ done: false }`; rejects
 * when the promise does. `onTick` runs every `tickMs` while waiting; `signal` ends the wait early.
 */
export function within<T>(promise: Promise<T>, ms: number, options: { readonly tickMs?: number; readonly onTick?: () => void; readonly signal?: AbortSignal } = {}): Promise<Bounded<T>> {
  return new Promise<Bounded<T>>((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    const finish = (f: () => void) => {
      for (const t of timers) clearTimeout(t), clearInterval(t);
      options.signal?.removeEventListener('abort', onAbort);
      f();
    };
    const onAbort = () => finish(() => resolve({ done: false }));
    timers.push(setTimeout(() => finish(() => resolve({ done: false })), ms));
    if (options.onTick && options.tickMs) timers.push(setInterval(options.onTick, options.tickMs));
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => finish(() => resolve({ done: true, value })),
      (err: unknown) => finish(() => reject(err)),
    );
  });
}
