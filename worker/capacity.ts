/**
 * How many sessions a worker keeps in memory and how many workflow tasks it runs at once, from the
 * environment: `GATEHOUSE_MAX_CACHED_SESSIONS` (the SDK's `maxCachedWorkflows`: sessions kept warm;
 * one past it is evicted and replayed from its history on its next proposal) and
 * `GATEHOUSE_WORKFLOW_TASK_SLOTS` (`maxConcurrentWorkflowTaskExecutions`). Unset: the SDK's defaults.
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
    const text = env[name];
    if (text === undefined || text === '') continue;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new WorkerConfigError(`\`${name}\` must be a whole number from 1 to ${max}, got \`${text}\``);
    out[option] = n;
  }
  return out as CapacityOptions;
}
