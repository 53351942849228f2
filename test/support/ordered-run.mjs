/**
 * `node --test` in the order given: `test/run.ts` spawns this instead of the CLI, because the CLI
 * sorts the files it is given (Node 24's `createTestFileList`), while `run()` from `node:test` starts
 * them in the order of its `files` (FIFO under `concurrency`). The runner passes the longest files
 * first (`test/support/durations.ts`), so that the last files to start are short ones and the pool
 * does not end on one long file. It does what the CLI's entry point does with the same options:
 * one process per file, the reporters composed onto the run's stream, exit code 1 when the run's
 * summary fails. Plain JavaScript: it runs before (and without) tsx.
 *
 * Usage: `node ordered-run.mjs '<json>'` with `{ files, concurrency, timeout, execArgv,
 * testNamePatterns?, testSkipPatterns?, only?, reporters: [{ reporter, destination }] }`.
 */
import { createWriteStream } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { run } from 'node:test';
import * as builtinReporters from 'node:test/reporters';
import { pathToFileURL } from 'node:url';

const options = JSON.parse(process.argv[2] ?? '{}');

/** A reporter named as `--test-reporter` takes it: built-in name, file path or URL, or package. */
async function loadReporter(name) {
  if (Object.hasOwn(builtinReporters, name)) return instantiate(builtinReporters[name]);
  const specifier = name.startsWith('file:') ? name : name.startsWith('.') || isAbsolute(name) ? pathToFileURL(resolve(name)).href : name;
  const loaded = await import(specifier);
  return instantiate(loaded.default ?? loaded);
}

/** Classes (spec, lcov) are made into a stream, as node's own reporter setup does; generators are used as they are. */
function instantiate(reporter) {
  return reporter?.prototype && Object.getOwnPropertyDescriptor(reporter.prototype, 'constructor') && !isGenerator(reporter) ? new reporter() : reporter;
}

function isGenerator(fn) {
  const tag = fn?.constructor?.name;
  return tag === 'AsyncGeneratorFunction' || tag === 'GeneratorFunction';
}

function destination(name) {
  if (name === 'stdout') return process.stdout;
  if (name === 'stderr') return process.stderr;
  return createWriteStream(name);
}

// Ctrl-C / SIGTERM from the runner: stop the files' processes (run()'s signal kills them) and end.
const abort = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.exitCode = 130;
    abort.abort();
  });
}

// Every reporter is loaded before the run starts, so that each sees the stream from its first event.
const reporters = await Promise.all((options.reporters ?? []).map(async ({ reporter, destination: dest }) => ({ reporter: await loadReporter(reporter), dest })));
const stream = run({
  files: options.files,
  concurrency: options.concurrency,
  timeout: options.timeout,
  execArgv: options.execArgv ?? [],
  testNamePatterns: options.testNamePatterns,
  testSkipPatterns: options.testSkipPatterns,
  only: options.only,
  signal: abort.signal,
});
stream.on('test:summary', (data) => {
  if (!data.success && !process.exitCode) process.exitCode = 1;
});
for (const { reporter, dest } of reporters) stream.compose(reporter).pipe(destination(dest));
