/**
 * The end of a test file's process under `npm test` (loaded with `--import` into every test file's
 * process by `test/run.ts`): once the file's tests are done, the process gets 5 s to exit on its own,
 * then exits with the runner's exit code, so a leaked handle cannot hang CI. Not `--test-force-exit`:
 * that exits before the file's reporter stream has reached the parent over its pipe, and the parent
 * then counts fewer tests than ran, silently (nodejs/node#64833; seen in this repository's CI, 31
 * tests of one file unreported). Does nothing outside the runner, nor in worker threads (which
 * inherit `--import`). Plain JavaScript: worker threads load it without tsx's hooks.
 */
import { isMainThread } from 'node:worker_threads';

// `GATEHOUSE_TEST_GRACE_MS` lengthens it, to watch what a leaked handle does (docs/internals/testing.md).
const GRACE_MS = Number(process.env.GATEHOUSE_TEST_GRACE_MS ?? 5_000);
const file = process.argv[1];
// A test file (or the runner test's fixture), not a process a test forks with the same `execArgv`.
if (isMainThread && process.env.GATEHOUSE_TEST_TIMING_DIR && file && /\.(test|fixture)\.[cm]?[jt]s$/.test(file)) {
  const { after } = await import('node:test');
  // Every test of the file has ended and its report is on its way. This is the root's first `after`
  // hook (registered before the file loads), so the file's own teardown runs within the grace: one
  // slower than it is cut short and the file is named as leaking.
  after(() => {
    setTimeout(() => {
      // file-timing.mjs records it: the runner names the files that leaked a handle.
      process.env.GATEHOUSE_TEST_GRACE_EXIT = '1';
      process.exit();
    }, GRACE_MS).unref();
  });
}
