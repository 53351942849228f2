/**
 * Finds the Temporal CLI binary (`temporal`), which hosts the dev server Gatehouse runs on.
 *
 * Places are tried in the order DESIGN.md gives, and the first that yields an executable wins:
 * 1. `TEMPORAL_CLI_PATH` (an explicit path; a wrong one is an error, not a fallthrough);
 * 2. `temporal` on `PATH`;
 * 3. the cached copy `${XDG_CACHE_HOME:-~/.cache}/gatehouse/temporal-v1.5.1/temporal`, outside the
 *    clone so every clone and CI run reuses it;
 * 4. `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` with `GOBIN` set to that cache
 *    folder, where `go` is on `PATH` (later versions carry a local `replace` and cannot be installed);
 * 5. the Temporal SDK's own download, only where the download host resolves.
 *
 * When none works, {@link TemporalCliNotFoundError} lists every place tried and how to fix it.
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, readdir, stat } from 'node:fs/promises';
import { lookup } from 'node:dns/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The Temporal CLI release Gatehouse builds and caches. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';

/** The Go package built by the `go install` step. */
export const TEMPORAL_CLI_GO_PACKAGE = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`;

/** One place {@link findTemporalCli} looked, and why it did not give a binary. */
export interface TemporalCliAttempt {
  readonly source: 'TEMPORAL_CLI_PATH' | 'PATH' | 'cache' | 'go install' | 'sdk download';
  readonly detail: string;
}

/** Thrown when no Temporal CLI binary can be found, built or downloaded. */
export class TemporalCliNotFoundError extends Error {
  readonly type = 'TemporalCliNotFound';
  constructor(readonly attempts: readonly TemporalCliAttempt[], readonly cacheDir: string) {
    super(
      [
        'temporal cli not found: tried, in order:',
        ...attempts.map((a, i) => `  ${i + 1}. ${a.source}: ${a.detail}`),
        'to fix: install Go (https://go.dev/dl) and run',
        `  GOBIN=${cacheDir} go install ${TEMPORAL_CLI_GO_PACKAGE}`,
        'or put a `temporal` binary on PATH, or set TEMPORAL_CLI_PATH to one',
      ].join('\n'),
    );
    this.name = 'TemporalCliNotFoundError';
  }
}

export interface FindTemporalCliOptions {
  /** Environment to read (`TEMPORAL_CLI_PATH`, `PATH`, `XDG_CACHE_HOME`, `HOME`). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Progress lines for the slow steps (Go build, download). @default writes to stderr */
  readonly log?: (line: string) => void;
}

/** The cache folder holding the built binary: `${XDG_CACHE_HOME:-~/.cache}/gatehouse/temporal-v1.5.1`. */
export function temporalCliCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'gatehouse', `temporal-${TEMPORAL_CLI_VERSION}`);
}

/** Resolves the path of a runnable Temporal CLI, building or downloading it when needed. */
export async function findTemporalCli(options: FindTemporalCliOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const cacheDir = temporalCliCacheDir(env);
  const cached = join(cacheDir, 'temporal');
  const attempts: TemporalCliAttempt[] = [];

  // 1. An explicit path is a promise from the user: a wrong one fails loudly rather than being skipped.
  const explicit = env.TEMPORAL_CLI_PATH;
  if (explicit) {
    if (await isExecutable(explicit)) return explicit;
    attempts.push({ source: 'TEMPORAL_CLI_PATH', detail: `\`${explicit}\` is not an executable file` });
    throw new TemporalCliNotFoundError(attempts, cacheDir);
  }
  attempts.push({ source: 'TEMPORAL_CLI_PATH', detail: 'not set' });

  // 2. PATH.
  const onPath = await whichExecutable('temporal', env.PATH);
  if (onPath) return onPath;
  attempts.push({ source: 'PATH', detail: `no \`temporal\` in \`${env.PATH ?? ''}\`` });

  // 3. The shared cache.
  if (await isExecutable(cached)) return cached;
  attempts.push({ source: 'cache', detail: `no executable at \`${cached}\`` });

  // 4. Build it with Go.
  const go = await whichExecutable('go', env.PATH);
  if (!go) {
    attempts.push({ source: 'go install', detail: 'no `go` on PATH' });
  } else {
    log(`gatehouse: building the temporal cli ${TEMPORAL_CLI_VERSION} with go into ${cacheDir} (a few minutes, once)`);
    const failure = await goInstall(go, cacheDir, env);
    if (!failure && (await isExecutable(cached))) return cached;
    attempts.push({ source: 'go install', detail: failure ?? `finished but left no executable at \`${cached}\`` });
  }

  // 5. The SDK's download, tried last and only where its host resolves.
  const downloaded = await sdkDownload(cacheDir, env, log);
  if (typeof downloaded === 'string') return downloaded;
  attempts.push({ source: 'sdk download', detail: downloaded?.failure ?? `left no executable in \`${cacheDir}\`` });

  throw new TemporalCliNotFoundError(attempts, cacheDir);
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    const s = await stat(file);
    if (!s.isFile()) return false;
    await access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function whichExecutable(name: string, pathVar: string | undefined): Promise<string | undefined> {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Runs `go install` with GOBIN = cacheDir; resolves to a failure description or undefined. */
async function goInstall(go: string, cacheDir: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  await mkdir(cacheDir, { recursive: true });
  return new Promise((resolve) => {
    const child = spawn(go, ['install', TEMPORAL_CLI_GO_PACKAGE], {
      env: { ...env, GOBIN: cacheDir },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let tail = '';
    child.stderr.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString('utf8')).slice(-2000);
    });
    child.on('error', (err) => resolve(`\`${go} install\` could not start: ${err.message}`));
    child.on('close', (code, signal) => {
      if (code === 0) resolve(undefined);
      else resolve(`\`go install ${TEMPORAL_CLI_GO_PACKAGE}\` failed (${signal ?? `exit ${code}`}): ${lastLines(tail)}`);
    });
  });
}

/** The SDK's cached download of the dev server; resolves to the binary path or a failure. */
async function sdkDownload(
  cacheDir: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<string | { failure: string } | undefined> {
  if (env.GATEHOUSE_TEMPORAL_DOWNLOAD === 'never') {
    return { failure: 'disabled by GATEHOUSE_TEMPORAL_DOWNLOAD=never' };
  }
  const host = 'temporal.download';
  try {
    await withTimeout(lookup(host), 3000, `dns lookup of \`${host}\` timed out`);
  } catch (err) {
    return { failure: `network unreachable: cannot resolve \`${host}\`: ${message(err)}` };
  }
  const downloadDir = join(cacheDir, 'sdk-download');
  await mkdir(downloadDir, { recursive: true });
  log(`gatehouse: downloading the temporal cli through the sdk into ${downloadDir}`);
  try {
    // The SDK only downloads as part of starting a server; start one, then keep the binary.
    const { TestWorkflowEnvironment } = await import('@temporalio/testing');
    const testEnv = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'cached-download', downloadDir }, ip: '127.0.0.1' },
    });
    await testEnv.teardown();
  } catch (err) {
    return { failure: `sdk download failed: ${message(err)}` };
  }
  for (const entry of await readdir(downloadDir)) {
    const file = join(downloadDir, entry);
    if (entry.startsWith('temporal') && (await isExecutable(file))) return file;
  }
  return undefined;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ') || 'no output';
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
