/**
 * The global runner (`npm test` → test/run.ts) as a user meets it: it hands its servers to the
 * test files, exits with their code (0, or 1 when a test fails), and a Ctrl-C mid-run still stops both servers.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = join(__dirname, '..', '..');

interface RunnerRun {
  readonly code: number | null;
  readonly output: string;
  readonly serverPids: readonly number[];
}

/** Runs test/run.ts on `files`; `onOutput` may act on what it prints (e.g. send a signal). */
function runRunner(files: readonly string[], onOutput?: (text: string, pid: number) => void): Promise<RunnerRun> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    // A fresh runner: no servers handed down, and not seen by node as a test run nested in this one.
    for (const key of Object.keys(env)) if (key.startsWith('GATEHOUSE_TEST_') || key === 'NODE_TEST_CONTEXT') delete env[key];
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

test('the runner hands its servers to the test files and exits with their code', async () => {
  const run = await runRunner([join('test', 'foundation', 'fixtures', 'passes.fixture.ts')]);
  assert.equal(run.code, 0, run.output);
  assert.match(run.output, /ℹ pass 1/);
  assert.equal(run.serverPids.length, 2, run.output);
  for (const pid of run.serverPids) assert.equal(alive(pid), false, `server pid ${pid} outlived the runner`);
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
