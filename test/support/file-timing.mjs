/**
 * Per-file timing for `npm test` (loaded with `--import` into every test file's process by
 * `test/run.ts`). When the process exits it appends `{ file, ms, start, end, cpuMs }` — the file's wall
 * time from process start (module loading and bundling included), when it started and ended, its own CPU, and
 * whether the grace exit ended it (a leaked handle) — to `$GATEHOUSE_TEST_TIMING_DIR/files.jsonl`.
 * The runner prints the slowest files from there. Does nothing outside the runner, nor in worker
 * threads (which inherit `--import`). Plain JavaScript: worker threads load it without tsx's hooks.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

const dir = process.env.GATEHOUSE_TEST_TIMING_DIR;
const file = process.argv[1];
if (isMainThread && dir && file && /\.(test|fixture)\.[cm]?[jt]s$/.test(file)) {
  process.once('exit', () => {
    try {
      const ms = Math.round(performance.now());
      const { user, system } = process.cpuUsage();
      // start/end (epoch ms) show how the files overlapped; cpuMs is this process's own CPU
      // (not that of the servers or workers it spawned).
      const line = { file, ms, start: Date.now() - ms, end: Date.now(), cpuMs: Math.round((user + system) / 1000), childCpuMs: childCpuMs(), ...(process.env.GATEHOUSE_TEST_GRACE_EXIT ? { leaked: true } : {}) };
      appendFileSync(join(dir, 'files.jsonl'), `${JSON.stringify(line)}\n`);
    } catch {
      // Timing is a convenience: never fail a test file over it.
    }
  });
}

/** CPU of the processes this one spawned and reaped (workers, stacks, browsers), from /proc (Linux; else undefined). */
function childCpuMs() {
  try {
    // Fields after the command's closing parenthesis: cutime and cstime are the 14th and 15th, in ticks (100 Hz).
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return undefined;
  }
}
