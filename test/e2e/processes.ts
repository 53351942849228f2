/**
 * The end-to-end suite drives Gatehouse the way a user does: as processes. `runCli` runs one
 * `gatehouse` command to completion; `startStack` runs `gatehouse start` until stopped, ready once
 * the stack file it writes appears (its worker is polling by then).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnGroup, type ManagedProcess } from '../../worker/devstack/process-group';
import { eventually, EventuallyTimeoutError } from '../support/eventually';

export const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'gatehouse.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `gatehouse <args>` with `env`, to completion (killed after `timeoutMs`). */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 180_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      stderr += `\n[e2e] killed after ${timeoutMs} ms`;
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Parses the JSON a `--json` command printed, with the command's output in the error when it is not JSON. */
export function parseJsonOutput<T>(what: string, r: CliResult): T {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.stderr}\n${r.stdout.slice(-4000)}`);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`${what} printed no JSON:\n${r.stdout.slice(-4000)}\n${r.stderr}`);
  }
}

export interface RunningStack {
  readonly process: ManagedProcess;
  readonly stackFile: unknown;
  /** SIGINT, as Ctrl-C would; resolves once every process of the stack has exited. */
  stop(): Promise<void>;
}

/** Starts `gatehouse start` and waits for the stack file it writes while running. */
export async function startStack(env: NodeJS.ProcessEnv, stackFile: string, timeoutMs = 300_000): Promise<RunningStack> {
  const proc = spawnGroup(process.execPath, [BIN, 'start'], { cwd: ROOT, env });
  try {
    const parsed = await eventually(
      () => {
        if (proc.hasExited()) throw new Error(`gatehouse start exited during start-up:\n${proc.outputTail()}`);
        if (!existsSync(stackFile)) return undefined;
        try {
          const file = JSON.parse(readFileSync(stackFile, 'utf8')) as { pid?: number };
          return file.pid === proc.pid ? file : undefined;
        } catch {
          return undefined; // being written: look again
        }
      },
      { what: `the stack file \`${stackFile}\` of \`gatehouse start\``, timeoutMs, everyMs: 250 },
    );
    return { process: proc, stackFile: parsed, stop: () => proc.stop({ signal: 'SIGINT', graceMs: 60_000 }) };
  } catch (err) {
    await proc.stop({ signal: 'SIGKILL', graceMs: 0 });
    if (err instanceof EventuallyTimeoutError) throw new Error(`${err.message}:\n${proc.outputTail()}`);
    throw err;
  }
}
