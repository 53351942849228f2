/**
 * A node:test reporter for `npm test` (see `test/run.ts`): appends every test's duration as a
 * JSON line to `$GATEHOUSE_TEST_TIMING_DIR/tests.jsonl`, for the runner's "slowest tests" summary.
 * Suites (`describe`) are left out: their time is their tests'. Synchronous appends: each line is
 * on disk when the test's event arrives, whenever the run ends. Plain JavaScript:
 * the test runner loads reporters before `--import tsx` applies.
 *
 * @param {AsyncIterable<{ type: string, data: { name: string, file?: string, details?: { duration_ms?: number, type?: string } } }>} source
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

export default async function* timingReporter(source) {
  const dir = process.env.GATEHOUSE_TEST_TIMING_DIR;
  for await (const event of source) {
    if (!dir || (event.type !== 'test:pass' && event.type !== 'test:fail')) continue;
    const { name, file, details } = event.data;
    if (details?.type === 'suite' || details?.duration_ms === undefined) continue;
    const line = { file: file ?? '', name, ms: Math.round(details.duration_ms), failed: event.type === 'test:fail' };
    try {
      appendFileSync(join(dir, 'tests.jsonl'), `${JSON.stringify(line)}\n`);
    } catch {
      // Timing is a convenience: never fail the run over it.
    }
  }
  yield '';
}
