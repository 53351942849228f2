/**
 * The global test runner behind `npm test`.
 *
 * Finds (or builds) the Temporal CLI, starts one Temporal dev server (in memory) and one embedded
 * PostgreSQL on free ports, hands their addresses to the test files through the environment
 * (`test/support/servers.ts` reads them), runs node's test runner on the test files, tears both
 * servers down — also on failure and on Ctrl-C — and exits with the tests' exit code. Files start
 * longest expected first (`test/support/durations.ts`: the last run's times, else the committed
 * `test/durations.json`; new files first), through node:test's `run()` (`test/support/ordered-run.mjs`),
 * because `node --test` sorts its files. When `.venv` (the Python tests' environment) is missing, it
 * runs `npm run setup:python` first (one notice).
 *
 * Usage: `npm test [-- <file|dir>... [--node-test-flag...]]`. Without paths every
 * `test/**\/*.test.ts` runs. Arguments starting with `--`: the test runner's own (`--test-name-pattern=…`,
 * `--test-skip-pattern=…`, `--test-only`, `--test-reporter=…` with `--test-reporter-destination=…`,
 * `--test-concurrency=…`, `--test-timeout=…`) work as with `node --test`; any other goes to every file's
 * node. `GATEHOUSE_TEST_CONCURRENCY` sets `--test-concurrency` (default: the cores + 1, 3 to 4),
 * `GATEHOUSE_TEST_TIMEOUT` the per-test timeout in ms (default 10 minutes), `GATEHOUSE_TEST_EXCLUDE`
 * folders (comma-separated) a run without paths leaves out. `test/production/` is the slow part: it
 * starts the full Temporal server (`temporal-server`, built once with Go) per file.
 *
 * At the end it prints the slowest files (wall time of each file's process, from
 * `test/support/file-timing.mjs`) and the slowest tests (from `test/support/timing-reporter.mjs`);
 * `GATEHOUSE_TEST_SLOWEST` sets how many of each (default 15, 0 for none).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../worker/devstack/postgres';
import { findTemporalCli } from '../worker/devstack/temporal-binary';
import { startTemporalDevServer, type TemporalDevServer } from '../worker/devstack/temporal-server';
import { TEST_ENV } from './support/servers';
import { BUNDLE_DIR_ENV } from './support/shared-bundle';
import { longestFirst, rememberDurations } from './support/durations';
import { findTests } from './support/find-tests';
import { ensurePythonVenv } from '../worker/devstack/python-venv';

const ROOT = resolve(__dirname, '..');

function say(line: string): void {
  process.stderr.write(`gatehouse test: ${line}\n`);
}

/** Test files named by the arguments (files or folders), or all of `test/` but `GATEHOUSE_TEST_EXCLUDE`. */
async function selectFiles(paths: readonly string[]): Promise<string[]> {
  if (paths.length === 0) {
    // `.ci/run` times the slow part (test/production, the full Temporal server) as a step of its own.
    const excluded = (process.env.GATEHOUSE_TEST_EXCLUDE ?? '').split(',').filter(Boolean).map((p) => resolve(p) + sep);
    return (await findTests(join(ROOT, 'test'))).filter((f) => !excluded.some((dir) => f.startsWith(dir)));
  }
  const files: string[] = [];
  for (const p of paths) {
    const full = resolve(p);
    const info = await stat(full).catch(() => undefined);
    if (!info) throw new Error(`no such test file or folder \`${p}\``);
    files.push(...(info.isDirectory() ? await findTests(full) : [full]));
  }
  return files;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const nodeFlags = args.filter((a) => a.startsWith('--'));
  const files = await selectFiles(args.filter((a) => !a.startsWith('--')));
  if (files.length === 0) {
    say('no test files found');
    return 1;
  }

  let temporal: TemporalDevServer | undefined;
  let postgres: EmbeddedPostgres | undefined;
  let dataDir: string | undefined;
  let runDir: string | undefined;
  let child: ReturnType<typeof spawn> | undefined;
  let interrupted: NodeJS.Signals | undefined;

  const teardown = async () => {
    const results = await Promise.allSettled([temporal?.stop(), postgres?.stop()]);
    for (const r of results) if (r.status === 'rejected') say(`teardown: ${String(r.reason)}`);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    if (runDir) await rm(runDir, { recursive: true, force: true });
  };

  // Ctrl-C / SIGTERM: the test process gets the signal too (same process group on a terminal;
  // forwarded otherwise), and we stop the servers once it is gone — or right away during start-up.
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = signal;
    say(`${signal}: stopping`);
    if (child && child.exitCode === null) child.kill(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const started = Date.now();
    const cliPath = await findTemporalCli();
    if (interrupted) return 130;
    dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-test-pg-'));
    const [t, p, v] = await Promise.allSettled([
      startTemporalDevServer({ cliPath, uiPort: false }),
      startEmbeddedPostgres({ dataDir, noFsync: true }),
      ensurePythonVenv(ROOT, say),
    ]);
    if (t.status === 'fulfilled') temporal = t.value;
    if (p.status === 'fulfilled') postgres = p.value;
    if (t.status === 'rejected') throw t.reason;
    if (p.status === 'rejected') throw p.reason;
    if (v.status === 'rejected') throw v.reason;
    if (interrupted || !temporal || !postgres) return 130;
    say(`temporal ${temporal.address} (pid ${temporal.pid}), postgres 127.0.0.1:${postgres.port} (pid ${postgres.pid}), ready in ${Date.now() - started} ms; ${files.length} test file(s)`);

    runDir = await mkdtemp(join(tmpdir(), 'gatehouse-test-run-'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GATEHOUSE_TEST_TIMING_DIR: runDir,
      // One workflow bundle per kind for the whole run, built by the first file that needs it.
      [BUNDLE_DIR_ENV]: runDir,
      [TEST_ENV.temporalAddress]: temporal.address,
      [TEST_ENV.namespace]: temporal.namespace,
      [TEST_ENV.temporalCliPath]: cliPath,
      [TEST_ENV.postgresUrl]: postgres.urlFor('postgres'),
    };
    // Files are isolated (own database, own task queue) and mostly wait on servers and timers
    // (0.2–0.5 of a core each on average), so three run at once even on 2 cores: 632 s → 517 s
    // for the whole suite here (BENCHMARKS, "CI speed").
    const concurrency = process.env.GATEHOUSE_TEST_CONCURRENCY || String(Math.max(3, Math.min(4, availableParallelism() + 1)));
    // Timing: every file's process records its wall time; a second reporter the tests' durations
    // (left out when the caller picks reporters of their own).
    const flags = testRunnerFlags(nodeFlags);
    const reporters = flags.reporters.length
      ? flags.reporters
      : [
          { reporter: 'spec', destination: 'stdout' },
          { reporter: pathToFileURL(join(__dirname, 'support', 'timing-reporter.mjs')).href, destination: join(runDir, 'reporter.out') },
        ];
    // node:test's run() rather than `node --test`: the CLI sorts the files, run() starts them in the
    // order given, and that is the longest first (test/support/durations.ts, ordered-run.mjs).
    const ordered = await longestFirst(files);
    if (ordered.length > 1) say(`starting the longest expected first: ${ordered.slice(0, 3).map((f) => relative(process.cwd(), f)).join(', ')}${ordered.length > 3 ? ', …' : ''}`);
    const runOptions = {
      files: ordered.map((f) => relative(process.cwd(), f)),
      concurrency: Number(flags.concurrency ?? concurrency),
      // A hung test fails after GATEHOUSE_TEST_TIMEOUT ms, and a file whose tests are done exits
      // 5 s later even if it leaked a handle (support/grace-exit.mjs): CI gets an answer instead of a hang.
      timeout: Number(flags.timeout ?? (process.env.GATEHOUSE_TEST_TIMEOUT || 600_000)),
      execArgv: ['--import', 'tsx', '--import', pathToFileURL(join(__dirname, 'support', 'file-timing.mjs')).href, '--import', pathToFileURL(join(__dirname, 'support', 'grace-exit.mjs')).href, ...flags.rest],
      testNamePatterns: flags.namePatterns.length ? flags.namePatterns : undefined,
      testSkipPatterns: flags.skipPatterns.length ? flags.skipPatterns : undefined,
      only: flags.only || undefined,
      reporters,
    };
    const nodeArgs = [join(__dirname, 'support', 'ordered-run.mjs'), JSON.stringify(runOptions)];
    const testProcess = spawn(process.execPath, nodeArgs, { stdio: 'inherit', env });
    child = testProcess;
    const code = await new Promise<number>((done) => {
      testProcess.once('error', (err) => {
        say(`cannot run node --test: ${err.message}`);
        done(1);
      });
      testProcess.once('exit', (exitCode, signal) => done(exitCode ?? (signal ? 128 + signalNumber(signal) : 1)));
    });
    const timings = await readJsonl<FileTiming>(runDir, 'files.jsonl');
    await printSlowest(runDir, timings, Date.now() - started, runOptions.concurrency);
    printLeaks(timings);
    // Filtered or interrupted runs time only part of a file: they would teach the order wrong figures.
    if (!flags.filtered && !interrupted) await learnDurations(timings);
    return interrupted ? Math.max(code, 130) : code;
  } catch (err) {
    say(err instanceof Error ? err.message : String(err));
    return 1;
  } finally {
    await teardown();
  }
}

/** One line of files.jsonl (support/file-timing.mjs): a test file's process, start to exit. */
interface FileTiming {
  readonly file: string;
  readonly ms: number;
  readonly start?: number;
  readonly end?: number;
  readonly cpuMs?: number;
  readonly childCpuMs?: number;
  readonly leaked?: boolean;
}

/** The lines of a JSONL file the test processes wrote into the run's folder (none if it is missing or torn). */
async function readJsonl<T>(dir: string, file: string): Promise<T[]> {
  try {
    return (await readFile(join(dir, file), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as T);
  } catch (err) {
    say(`timing summary: ${file}: ${err instanceof Error ? err.message : String(err)}`);
    return [];
  }
}

/** Files the grace exit had to end: a handle outlived their tests (never fails the run; find it with GATEHOUSE_TEST_GRACE_MS). */
function printLeaks(files: readonly FileTiming[]): void {
  const leaked = files.filter((f) => f.leaked);
  if (leaked.length) say(`${leaked.length} file(s) left a handle open after their tests and were ended by the grace exit: ${leaked.map((f) => relative(process.cwd(), f.file)).join(', ')}`);
}

/** The slowest files and tests of the run, for finding what to speed up (never fails the run). */
async function printSlowest(dir: string, timings: readonly FileTiming[], totalMs: number, concurrency: number): Promise<void> {
  const count = Number(process.env.GATEHOUSE_TEST_SLOWEST ?? 15);
  if (!(count > 0)) return;
  const secs = (ms: number) => `${(ms / 1000).toFixed(1).padStart(6)} s`;
  const name = (file: string) => relative(process.cwd(), file) || file;
  try {
    const files = [...timings].sort((a, b) => b.ms - a.ms);
    const tests = (await readJsonl<{ file: string; name: string; ms: number }>(dir, 'tests.jsonl')).sort((a, b) => b.ms - a.ms);
    const lines = [`\n${files.length} file(s) in ${secs(totalMs).trim()} wall (servers included); summed file time ${secs(files.reduce((n, f) => n + f.ms, 0)).trim()}`];
    const starts = files.map((f) => f.start ?? NaN);
    const ends = files.map((f) => f.end ?? NaN);
    if (files.length > 1 && starts.every(Number.isFinite)) {
      // How well the files filled the slots: the time from the last file's start to the end, and the
      // slot time left empty between the first start and the last end (the order's whole cost).
      const [first, lastStart, lastEnd] = [Math.min(...starts), Math.max(...starts), Math.max(...ends)];
      const idle = concurrency * (lastEnd - first) - files.reduce((n, f) => n + f.ms, 0);
      const cpu = files.reduce((n, f) => n + (f.cpuMs ?? 0) + (f.childCpuMs ?? 0), 0);
      lines.push(`the last file started ${secs(lastStart - first).trim()} after the first; the tail after it ${secs(lastEnd - lastStart).trim()}; idle slot time ${secs(Math.max(0, idle)).trim()} of ${concurrency} slots; the files' CPU ${secs(cpu).trim()} (their own and their children's, the servers not included)`);
    }
    const cpuOf = (f: (typeof files)[number]) => (f.cpuMs === undefined ? '' : `  CPU ${secs(f.cpuMs + (f.childCpuMs ?? 0))}`);
    if (files.length) lines.push(`slowest ${Math.min(count, files.length)} files (each file's process, start to exit; CPU: its own and its children's):`, ...files.slice(0, count).map((f) => `  ${secs(f.ms)}${cpuOf(f)}  ${name(f.file)}`));
    const bundles = (await readFile(join(dir, 'bundles.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
    if (bundles.length) lines.push(`workflow bundles (test/support/shared-bundle.ts): ${bundles.filter((b) => b.endsWith(' built')).length} built, ${bundles.filter((b) => b.endsWith(' shared')).length} times shared`);
    if (tests.length) lines.push(`slowest ${Math.min(count, tests.length)} tests:`, ...tests.slice(0, count).map((t) => `  ${secs(t.ms)}  ${name(t.file)} › ${t.name}`));
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (err) {
    say(`timing summary: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The `node --test` flags the runner takes (the test runner's own); the rest go to every file's node. */
function testRunnerFlags(nodeFlags: readonly string[]) {
  const value = (flag: string, name: string) => (flag.startsWith(`${name}=`) ? flag.slice(name.length + 1) : undefined);
  const out = {
    reporters: [] as Array<{ reporter: string; destination: string }>,
    destinations: [] as string[],
    namePatterns: [] as string[],
    skipPatterns: [] as string[],
    only: false,
    concurrency: undefined as string | undefined,
    timeout: undefined as string | undefined,
    rest: [] as string[],
    filtered: false,
  };
  for (const flag of nodeFlags) {
    let v: string | undefined;
    if ((v = value(flag, '--test-reporter')) !== undefined) out.reporters.push({ reporter: v, destination: 'stdout' });
    else if ((v = value(flag, '--test-reporter-destination')) !== undefined) out.destinations.push(v);
    else if ((v = value(flag, '--test-name-pattern')) !== undefined) out.namePatterns.push(v);
    else if ((v = value(flag, '--test-skip-pattern')) !== undefined) out.skipPatterns.push(v);
    else if ((v = value(flag, '--test-concurrency')) !== undefined) out.concurrency = v;
    else if ((v = value(flag, '--test-timeout')) !== undefined) out.timeout = v;
    else if (flag === '--test-only') out.only = true;
    else if (flag !== '--test' && flag !== '--test-force-exit') out.rest.push(flag);
  }
  // As with `node --test`: the n-th destination is the n-th reporter's (stdout when there is none).
  out.destinations.forEach((d, i) => {
    if (out.reporters[i]) out.reporters[i].destination = d;
  });
  out.filtered = out.namePatterns.length > 0 || out.skipPatterns.length > 0 || out.only;
  return out;
}

/** Keeps this run's file times for the next run's order (never fails the run). */
async function learnDurations(timings: readonly FileTiming[]): Promise<void> {
  try {
    await rememberDurations(timings);
  } catch (err) {
    say(`durations: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : signal === 'SIGKILL' ? 9 : 1;
}

void main().then((code) => {
  process.exitCode = code;
});
