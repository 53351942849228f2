/**
 * What the agent-package tests share: a command run without blocking the event loop (the worker
 * and the gateway may live in the test's process), the README's ten-line agent as the README shows
 * it, and an empty project with `@gatehouse/client` installed from its `npm pack` tarball.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, readdir, readFile } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');

export interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command` to completion in `cwd` (killed after `timeoutMs`), keeping its output. */
export function runProcess(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${options.timeoutMs} ms]\n`;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}

/** The `ts` snippet of the README's "An agent in ten lines" section. */
export async function readmeAgent(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const section = /^## An agent in ten lines\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  if (section === undefined) throw new Error('the README has no section `## An agent in ten lines`');
  const code = /^```ts\n([\s\S]*?)^```$/m.exec(section)?.[1];
  if (code === undefined) throw new Error('the README\'s ten-line agent section has no `ts` snippet');
  return code;
}

function ok(what: string, r: Run): Run {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/**
 * Packs `@gatehouse/client` into `dir` (`npm pack`, whose `prepack` builds it) and installs the
 * tarball into `dir/agent`, an empty project, offline: the package has no dependencies. It packs a
 * copy of `packages/client` without its `dist/`, so test files packing at the same time never read
 * each other's half-written build. Answers the project's folder and the tarball's path.
 */
export async function installClientPackage(dir: string): Promise<{ project: string; tarball: string }> {
  const source = join(dir, 'client');
  const skip = new Set([join(ROOT, 'packages', 'client', 'dist'), join(ROOT, 'packages', 'client', 'node_modules')]);
  await cp(join(ROOT, 'packages', 'client'), source, { recursive: true, filter: (path) => !skip.has(path) });
  // The build's `tsc` is the repository's, as in a workspace.
  const env = { ...process.env, PATH: [join(ROOT, 'node_modules', '.bin'), process.env.PATH].filter(Boolean).join(delimiter) };
  ok('npm pack', await runProcess('npm', ['pack', '--pack-destination', dir], { cwd: source, env, timeoutMs: 180_000 }));
  const tarballs = (await readdir(dir)).filter((f) => f.endsWith('.tgz'));
  if (tarballs.length !== 1) throw new Error(`npm pack left ${tarballs.length} tarballs in \`${dir}\``);
  const tarball = join(dir, tarballs[0]!);
  const project = join(dir, 'agent');
  await mkdir(project);
  ok('npm init', await runProcess('npm', ['init', '-y'], { cwd: project, timeoutMs: 60_000 }));
  ok('npm install', await runProcess('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: project, timeoutMs: 180_000 }));
  return { project, tarball };
}
