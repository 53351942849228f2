/**
 * Per-file timing for `npm test` (loaded with `--import` into every test file's process by
 * `test/run.ts`). When the process exits it appends `{ file, ms }` — the file's wall time from
 * process start, module loading and bundling included — to `$GATEHOUSE_TEST_TIMING_DIR/files.jsonl`.
 * The runner prints the slowest files from there. Does nothing outside the runner, nor in worker
 * threads (which inherit `--import`). Plain JavaScript: worker threads load it without tsx's hooks.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

const dir = process.env.GATEHOUSE_TEST_TIMING_DIR;
const file = process.argv[1];
if (isMainThread && dir && file && /\.test\.[cm]?[jt]s$/.test(file)) {
  process.once('exit', () => {
    try {
      appendFileSync(join(dir, 'files.jsonl'), `${JSON.stringify({ file, ms: Math.round(performance.now()) })}\n`);
    } catch {
      // Timing is a convenience: never fail a test file over it.
    }
  });
}
