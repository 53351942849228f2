/**
 * The project's Python environment (`.venv`: the local intent model and its runtime, the Python
 * client, pytest and the `mcp` package). `npm start` and `npm test` make it themselves when it is
 * missing, so a fresh clone runs the local model and passes its tests after `npm ci` alone.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The Python interpreter of the project's venv under `root`. */
export function venvPython(root: string): string {
  return join(root, '.venv', 'bin', 'python');
}

/**
 * Runs `npm run setup:python` when the venv is missing, saying so in one line; rejects with the
 * setup's last output when it fails.
 */
export async function ensurePythonVenv(root: string, say: (line: string) => void): Promise<void> {
  if (existsSync(venvPython(root))) return;
  say('no Python venv: making it with `npm run setup:python` (once; about a minute)');
  const started = Date.now();
  let output = '';
  const code = await new Promise<number>((done) => {
    const child = spawn('npm', ['run', '--silent', 'setup:python'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (err) => {
      output += err.message;
      done(1);
    });
    child.once('exit', (exitCode) => done(exitCode ?? 1));
  });
  if (code !== 0) throw new Error(`\`npm run setup:python\` exited ${code}:\n${output.trim()}`);
  say(`Python venv ready in ${Math.round((Date.now() - started) / 1000)} s`);
}
