/**
 * The global runner (`npm test` → test/run.ts) as a user meets it: it hands its servers to the
 * test files, exits with their code (0, or 1 when a test fails), a Ctrl-C mid-run still stops both servers,
 * and the files start longest expected first (`test/support/durations.ts`), not in name order.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { durationKey, longestFirst, rememberDurations } from '../support/durations';

const ROOT = join(__dirname, '..', '..');

interface RunnerRun {
  readonly code: number | null;
  readonly output: string;
  readonly serverPids: readonly number[];
}

/** Runs test/run.ts on `files`; `onOutput` may act on what it prints (e.g. send a signal). */
function runRunner(files: readonly string[], onOutput?: (text: string, pid: number) => void, extraEnv: NodeJS.ProcessEnv = {}): Promise<RunnerRun> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    // A fresh runner: no servers handed down, and not seen by node as a test run nested in this one.
    for (const key of Object.keys(env)) if (key.startsWith('GATEHOUSE_TEST_') || key === 'NODE_TEST_CONTEXT') delete env[key];
    Object.assign(env, extraEnv);
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'run.ts'), ...files], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      onOutput?.(output, child.pid ?? -1);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.once('error', reject);
    child.once('exit', (code) => {
      const m = /temporal \S+ \(pid (\d+)\), postgres \S+ \(pid (\d+)\)/.exec(output);
      resolve({ code, output, serverPids: m ? [Number(m[1]), Number(m[2])] : [] });
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('every verdict of a file is counted, and a file that leaks a handle still ends', async () => {
  const run = await runRunner([join('test', 'foundation', 'fixtures', 'leaks.fixture.ts')]);
  assert.equal(run.code, 0, run.output.slice(-2000));
  assert.match(run.output, /ℹ tests 2001\n/);
  assert.match(run.output, /ℹ pass 2001\n/);
  assert.match(run.output, /1 file\(s\) left a handle open after their tests and were ended by the grace exit: test\/foundation\/fixtures\/leaks\.fixture\.ts\n/);
});

test("a file's slow teardown runs to its end and is not named as a leak", async () => {
  const run = await runRunner([join('test', 'foundation', 'fixtures', 'slow-teardown.fixture.ts')], undefined, { GATEHOUSE_TEST_GRACE_MS: '500' });
  assert.equal(run.code, 0, run.output.slice(-2000));
  assert.match(run.output, /fixture: teardown finished/);
  assert.doesNotMatch(run.output, /left a handle open/);
});

test('the runner hands its servers to the test files and exits with their code', async () => {
  const run = await runRunner([join('test', 'foundation', 'fixtures', 'passes.fixture.ts')]);
  assert.equal(run.code, 0, run.output);
  assert.match(run.output, /ℹ pass 1/);
  assert.equal(run.serverPids.length, 2, run.output);
  for (const pid of run.serverPids) assert.equal(alive(pid), false, `server pid ${pid} outlived the runner`);
  assert.doesNotMatch(run.output, /left a handle open/);
});

test('a failing test file makes the runner exit with the tests\' code (1), servers stopped', async () => {
  const run = await runRunner([join('test', 'foundation', 'fixtures', 'fails.fixture.ts')]);
  assert.equal(run.code, 1, run.output);
  assert.match(run.output, /ℹ pass 1/);
  assert.match(run.output, /ℹ fail 1/);
  assert.match(run.output, /fixture: failing on purpose/);
  assert.equal(run.serverPids.length, 2, run.output);
  for (const pid of run.serverPids) assert.equal(alive(pid), false, `server pid ${pid} outlived the runner`);
});

test('Ctrl-C mid-run stops the tests and both servers, with a non-zero exit', async () => {
  let sent = false;
  const run = await runRunner([join('test', 'foundation', 'fixtures', 'waits.fixture.ts')], (text, pid) => {
    if (!sent && text.includes('fixture: waiting')) {
      sent = true;
      process.kill(pid, 'SIGINT');
    }
  });
  assert.ok(sent, run.output);
  assert.notEqual(run.code, 0);
  assert.equal(run.serverPids.length, 2, run.output);
  for (const pid of run.serverPids) assert.equal(alive(pid), false, `server pid ${pid} outlived the runner`);
});

test('the files start longest expected first, not in name order, and a flag of node --test still applies', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-runner-order-'));
  try {
    const durations = join(dir, 'durations.json');
    const [fails, passes] = [join('test', 'foundation', 'fixtures', 'fails.fixture.ts'), join('test', 'foundation', 'fixtures', 'passes.fixture.ts')];
    // By name `fails` comes first; by the recorded times `passes` does.
    await writeFile(durations, JSON.stringify({ [durationKey(join(ROOT, passes))]: 90, [durationKey(join(ROOT, fails))]: 1 }));
    const run = await runRunner([fails, passes, '--test-concurrency=1'], undefined, { GATEHOUSE_TEST_DURATIONS: durations });
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /starting the longest expected first: test\/foundation\/fixtures\/passes\.fixture\.ts, test\/foundation\/fixtures\/fails\.fixture\.ts/);
    const [passed, failed] = [run.output.indexOf('✔ sees the runner servers'), run.output.indexOf('✖ fails on purpose')];
    assert.ok(passed >= 0 && failed >= 0, run.output);
    assert.ok(passed < failed, `passes.fixture.ts should have run first:\n${run.output}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the order: files never timed first, then the cache\'s figure over the committed one, ties by name; a run updates only its files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-runner-durations-'));
  const saved = process.env.GATEHOUSE_TEST_DURATIONS;
  process.env.GATEHOUSE_TEST_DURATIONS = join(dir, 'durations.json');
  try {
    const f = (name: string) => join(ROOT, 'test', name);
    const committed = JSON.parse(await readFile(join(ROOT, 'test', 'durations.json'), 'utf8')) as Record<string, number>;
    const longest = Math.max(...Object.values(committed));
    // parse.test.ts is short in the committed file; the cache says it is the longest of all.
    await writeFile(process.env.GATEHOUSE_TEST_DURATIONS, JSON.stringify({ 'test/policies/parse.test.ts': longest + 1, 'test/b-tie.test.ts': 5, 'test/a-tie.test.ts': 5 }));
    const order = await longestFirst([f('a-tie.test.ts'), f('e2e/scenarios.test.ts'), f('never-timed.test.ts'), f('b-tie.test.ts'), f('policies/parse.test.ts')]);
    assert.deepEqual(order.map(durationKey), ['test/never-timed.test.ts', 'test/policies/parse.test.ts', 'test/e2e/scenarios.test.ts', 'test/a-tie.test.ts', 'test/b-tie.test.ts']);
    await rememberDurations([{ file: f('a-tie.test.ts'), ms: 12_345 }]);
    assert.deepEqual(JSON.parse(await readFile(process.env.GATEHOUSE_TEST_DURATIONS, 'utf8')), { 'test/a-tie.test.ts': 12.3, 'test/b-tie.test.ts': 5, 'test/policies/parse.test.ts': longest + 1 });
  } finally {
    if (saved === undefined) delete process.env.GATEHOUSE_TEST_DURATIONS;
    else process.env.GATEHOUSE_TEST_DURATIONS = saved;
    await rm(dir, { recursive: true, force: true });
  }
});
