/**
 * How long a session's run grows before it continues as new, when the operator has not said
 * (`sessionHistoryLimit` / `GATEHOUSE_SESSION_HISTORY_LIMIT` unset): chosen by the worker that
 * starts the session, from its sticky cache, and recorded with the session's start (carried to
 * every later run; never the caller's to choose).
 *
 * The bound trades two costs (BENCHMARKS, "What a gated call costs the worker, session 16"): each
 * continue-as-new costs ≈ 10 ms of the worker's CPU and ≈ 10 ms of the Temporal server's, and a
 * session evicted from the cache replays its run so far (≈ 0.6 ms per event) on its next call. Per
 * proposal, with k proposals a run and a cache hit rate h: ≈ 20 ms / k + (1 − h) × (10 ms + 5 ms × k / 2),
 * least at k ≈ √(8 / (1 − h)). A worker whose cache has room evicts nothing (misses come from
 * restarts: h ≈ 0.999, k ≈ 90 proposals); one whose cache is filling evicts (h anywhere down to
 * its cache's share of the sessions: k ≈ 10–30). So: long runs while the cache is under half
 * full, the short default otherwise.
 */

/** The bound while the cache has room: ≈ 100 proposals (≈ 6 events each), a miss replays ≤ ≈ 0.4 s. */
export const ROOMY_HISTORY_LIMIT = 600;

/** What the worker's cache holds now and can hold (the SDK's `maxCachedWorkflows`). */
export interface CacheFill {
  readonly cached: number;
  readonly capacity: number;
}

/**
 * The bound for a session starting now: `ROOMY_HISTORY_LIMIT` while the cache is under half full,
 * undefined otherwise (the workflow's short default, `SHORT_HISTORY_LIMIT`). A cache of 0 is always full.
 */
export function boundForCache(fill: CacheFill): number | undefined {
  return fill.cached < fill.capacity / 2 ? ROOMY_HISTORY_LIMIT : undefined;
}
