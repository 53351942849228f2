/**
 * Tools for tests (not part of the sample catalog): a slow idempotent counter, to kill a worker
 * while a call is in flight and count executions afterwards, and a flaky tool that fails
 * transiently a given number of times, to exercise retries. Both do real work on the test
 * database through the runtime's transaction, like any tool.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'pg';
import { z } from 'zod';
import { createCatalog, type ToolCatalog } from '../../activities/tools/catalog';
import { defineTool, type AnyToolDefinition } from '../../activities/tools/define';
import { ToolError } from '../../activities/tools/errors';

/** Tables the test tools write to (created by `ensureTestToolTables`). */
export const TEST_TOOL_DDL = `
CREATE TABLE IF NOT EXISTS test_counter_hits (
  idempotency_key text PRIMARY KEY,
  counter         text NOT NULL,
  hits            integer NOT NULL,
  first_at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE IF NOT EXISTS test_flaky_attempts (
  key       text PRIMARY KEY,
  attempts  integer NOT NULL
)`;

export async function ensureTestToolTables(pool: Pool): Promise<void> {
  await pool.query(TEST_TOOL_DDL);
}

/**
 * `test.slowCounter { counter, sleepMs }`: sleeps `sleepMs` (heartbeating, cancellable), then
 * adds one hit to the row of its idempotency key. A key run twice shows `hits = 2`; a key never
 * run has no row. Returns `{ counter, hits }`.
 */
export const slowCounter = defineTool({
  name: 'test.slowCounter',
  description: 'Sleep, then count one execution of this idempotency key',
  effect: 'write',
  environment: 'test',
  resource: 'counters',
  input: z.object({ counter: z.string().min(1).max(64), sleepMs: z.number().int().min(0).max(60_000).default(0) }).strict(),
  output: z.object({ counter: z.string(), hits: z.number().int() }),
  timeoutMs: 120_000,
  retry: { maxAttempts: 5 },
  idempotent: true,
  async handler(args, ctx) {
    let left = args.sleepMs;
    while (left > 0) {
      const step = Math.min(left, 200);
      await sleep(step, undefined, { signal: ctx.signal });
      ctx.heartbeat({ slept: args.sleepMs - left + step });
      left -= step;
    }
    const r = await ctx.db.query(
      `INSERT INTO test_counter_hits (idempotency_key, counter, hits) VALUES ($1, $2, 1)
       ON CONFLICT (idempotency_key) DO UPDATE SET hits = test_counter_hits.hits + 1 RETURNING hits`,
      [ctx.idempotencyKey, args.counter],
    );
    return { counter: args.counter, hits: r.rows[0].hits as number };
  },
});

/**
 * `test.flaky { key, failTimes, permanent? }`: each attempt is counted in `test_flaky_attempts`
 * (outside the call's transaction, so the count survives the rollback); the first `failTimes`
 * attempts throw a retryable `FlakyTransient`; with `permanent` every attempt throws a
 * non-retryable `FlakyPermanent`. Returns `{ key, attempts }` when it succeeds.
 */
export function flakyTool(pool: Pool) {
  return defineTool({
    name: 'test.flaky',
    description: 'Fail transiently a given number of times, then succeed',
    effect: 'write',
    environment: 'test',
    resource: 'counters',
    input: z.object({ key: z.string().min(1).max(64), failTimes: z.number().int().min(0).max(10), permanent: z.boolean().optional() }).strict(),
    output: z.object({ key: z.string(), attempts: z.number().int() }),
    timeoutMs: 10_000,
    retry: { maxAttempts: 4, nonRetryable: ['FlakyPermanent'] },
    idempotent: true,
    async handler(args) {
      const r = await pool.query(
        `INSERT INTO test_flaky_attempts (key, attempts) VALUES ($1, 1)
         ON CONFLICT (key) DO UPDATE SET attempts = test_flaky_attempts.attempts + 1 RETURNING attempts`,
        [args.key],
      );
      const attempts = r.rows[0].attempts as number;
      if (args.permanent) throw new ToolError('FlakyPermanent', `flaky tool \`${args.key}\` failed for good on attempt ${attempts}`);
      if (attempts <= args.failTimes) throw new ToolError('FlakyTransient', `flaky tool \`${args.key}\` failed on attempt ${attempts}`, { retryable: true });
      return { key: args.key, attempts };
    },
  });
}

/** A catalog of the test tools (plus any `extra` tools) on `database`; call `ensureTestToolTables` first. */
export function createTestCatalog(opts: { readonly database: Pool; readonly extra?: readonly AnyToolDefinition[] }): ToolCatalog {
  return createCatalog([slowCounter, flakyTool(opts.database), ...(opts.extra ?? [])], { database: opts.database });
}

/** Hits per idempotency key of the slow counter (`counter` filters by counter name). */
export async function counterHits(pool: Pool, counter?: string): Promise<Map<string, number>> {
  const r = await pool.query('SELECT idempotency_key, hits FROM test_counter_hits WHERE $1::text IS NULL OR counter = $1 ORDER BY idempotency_key', [
    counter ?? null,
  ]);
  return new Map(r.rows.map((row) => [row.idempotency_key as string, row.hits as number]));
}

export async function flakyAttempts(pool: Pool, key: string): Promise<number> {
  const r = await pool.query('SELECT attempts FROM test_flaky_attempts WHERE key = $1', [key]);
  return (r.rows[0]?.attempts as number | undefined) ?? 0;
}
