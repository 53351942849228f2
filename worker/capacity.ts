/**
 * How many sessions a worker keeps in memory and how many workflow tasks it runs at once, from the
 * environment: `GATEHOUSE_MAX_CACHED_SESSIONS` (the SDK's `maxCachedWorkflows`: sessions kept warm;
 * one past it is evicted and replayed from its history on its next proposal) and
 * `GATEHOUSE_WORKFLOW_TASK_SLOTS` (`maxConcurrentWorkflowTaskExecutions`). Unset: the SDK's defaults.
 * And how long a session's run grows before it continues as new: `GATEHOUSE_SESSION_HISTORY_LIMIT`
 * (the worker's `sessionHistoryLimit`, in history events; unset: chosen from the worker's cache at
 * each session start, `session-bound.ts`).
 * README "Fleet sizing" says how to choose them; `npm run bench:sessions` measures them.
 */
import type { WorkerOptions } from '@temporalio/worker';
import { WorkerConfigError } from './create-worker';

const KNOBS = {
  GATEHOUSE_MAX_CACHED_SESSIONS: { option: 'maxCachedWorkflows', max: 100_000 },
  GATEHOUSE_WORKFLOW_TASK_SLOTS: { option: 'maxConcurrentWorkflowTaskExecutions', max: 10_000 },
} as const;

export type CapacityOptions = Partial<Pick<WorkerOptions, 'maxCachedWorkflows' | 'maxConcurrentWorkflowTaskExecutions'>>;

/** The worker options the environment sets; a value that is not a whole number in range is an error. */
export function capacityFromEnv(env: NodeJS.ProcessEnv = process.env): CapacityOptions {
  const out: Record<string, number> = {};
  for (const [name, { option, max }] of Object.entries(KNOBS)) {
    const n = wholeNumber(env, name, 1, max);
    if (n !== undefined) out[option] = n;
  }
  return out as CapacityOptions;
}

/**
 * `GATEHOUSE_SESSION_HISTORY_LIMIT`, or undefined when unset. At least 20 events (a run must hold a
 * start and a few proposals), at most 50,000 (Temporal warns a history at 10,240 events and
 * suggests continue-as-new before its 51,200-event limit).
 */
export function sessionHistoryLimitFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  return wholeNumber(env, 'GATEHOUSE_SESSION_HISTORY_LIMIT', 20, 50_000);
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new WorkerConfigError(`\`${name}\` must be a whole number from ${min} to ${max}, got \`${text}\``);
  return n;
}
