/**
 * The end of a test file's process under `npm test` (loaded with `--import` into every test file's
 * process by `test/run.ts`): once the file's tests and its `after` hooks are done, the process gets
 * 5 s to exit on its own, then exits with the runner's exit code, so a leaked handle cannot hang CI.
 * Not `--test-force-exit`: that exits before the file's reporter stream has reached the parent over
 * its pipe, and the parent then counts fewer tests than ran, silently (nodejs/node#64833; seen in this
 * repository's CI, 31 tests of one file unreported). Does nothing outside the runner, nor in worker
 * threads (which inherit `--import`). Plain JavaScript: worker threads load it without tsx's hooks.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { isMainThread } from 'node:worker_threads';

// `GATEHOUSE_TEST_GRACE_MS` lengthens it, to watch what a leaked handle does (docs/internals/testing.md).
const GRACE_MS = Number(process.env.GATEHOUSE_TEST_GRACE_MS ?? 5_000);
// A file's `after` hook still running is teardown, not a leak: it gets this long before the exit.
const TEARDOWN_MS = Math.max(GRACE_MS, 120_000);
const file = process.argv[1];
// A test file (or the runner test's fixture), not a process a test forks with the same `execArgv`.
if (isMainThread && process.env.GATEHOUSE_TEST_TIMING_DIR && file && /\.(test|fixture)\.[cm]?[jt]s$/.test(file)) {
  const nodeTest = createRequire(import.meta.url)('node:test');
  let timer;
  let armed = false;
  const exitIn = (ms) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      // file-timing.mjs records it: the runner names the files that leaked a handle.
      process.env.GATEHOUSE_TEST_GRACE_EXIT = '1';
      process.exit();
    }, ms).unref();
  };
  // This is the root's first `after` hook (registered before the file loads), so the file's own `after`
  // hooks run after it: each one's run holds the exit off, and the grace starts again when it ends.
  const after = nodeTest.after;
  nodeTest.after = (fn, options) =>
    after(async function (...args) {
      if (armed) exitIn(TEARDOWN_MS);
      try {
        return await fn.apply(this, args);
      } finally {
        if (armed) exitIn(GRACE_MS);
      }
    }, options);
  // `import { after } from 'node:test'` in an ES module file reads the patched one too.
  syncBuiltinESMExports();
  after(() => {
    armed = true;
    exitIn(GRACE_MS);
  });
}
