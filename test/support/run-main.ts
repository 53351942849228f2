/**
 * Runs one of Gatehouse's process mains (`worker/main.ts`, `gateway/main.ts`) with `env` until it
 * exits, for tests of what refuses to start: the exit code and everything it wrote to stderr.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../e2e/processes';

export function runMain(main: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, main)], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}
