/**
 * Finds the full Temporal server (`temporal-server`), its SQL schema tool (`temporal-sql-tool`) and
 * the PostgreSQL schema folders they need — what `gatehouse start --temporal server` and the
 * production tests run. Same pattern as the CLI (`temporal-binary.ts`); the first place that
 * yields all three wins:
 * 1. `TEMPORAL_SERVER_DIR` (an explicit folder holding them; a wrong one is an error, not a fallthrough);
 * 2. the cached build `${XDG_CACHE_HOME:-~/.cache}/gatehouse/temporal-server-v1.32.2/`, outside the clone;
 * 3. `go install go.temporal.io/server/cmd/server@v1.32.2 …/cmd/tools/sql@v1.32.2` into that folder
 *    with `GOTOOLCHAIN=go1.27.3` (releases after 1.29 declare a newer Go than 1.26; the go command
 *    fetches that toolchain like a module), then the schema copied from the module cache.
 *
 * When none works, {@link TemporalServerNotFoundError} lists every place tried and how to fix it.
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, cp, mkdir, rename, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The Temporal server release Gatehouse builds, tests and deploys (docker-compose.yml uses the same). */
export const TEMPORAL_SERVER_VERSION = 'v1.32.2';
/** The Go toolchain that release needs (it declares Go 1.26.10). */
export const TEMPORAL_SERVER_GOTOOLCHAIN = 'go1.27.3';
export const TEMPORAL_SERVER_GO_PACKAGES = [
  `go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}`,
  `go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`,
] as const;
/** Schema versions of that release (`schema/postgresql/v12/version.go`): what a database must be at. */
export const TEMPORAL_SCHEMA_VERSION = '1.19';
export const TEMPORAL_VISIBILITY_SCHEMA_VERSION = '1.14';

/** Where the binaries and the schema folders are. */
export interface TemporalServerBinaries {
  readonly server: string;
  readonly sqlTool: string;
  /** `schema/postgresql/v12` of the release: `temporal/versioned` and `visibility/versioned` below it. */
  readonly schemaDir: string;
}

export interface TemporalServerAttempt {
  readonly source: 'TEMPORAL_SERVER_DIR' | 'cache' | 'go install';
  readonly detail: string;
}

/** Thrown when the server, its SQL tool or its schema can be neither found nor built. */
export class TemporalServerNotFoundError extends Error {
  readonly type = 'TemporalServerNotFound';
  constructor(readonly attempts: readonly TemporalServerAttempt[], readonly cacheDir: string) {
    super(
      [
        'temporal server not found: tried, in order:',
        ...attempts.map((a, i) => `  ${i + 1}. ${a.source}: ${a.detail}`),
        'to fix: install Go (https://go.dev/dl) and run',
        `  GOTOOLCHAIN=${TEMPORAL_SERVER_GOTOOLCHAIN} GOBIN=${cacheDir} go install ${TEMPORAL_SERVER_GO_PACKAGES.join(' ')}`,
        `then copy \`$(go env GOMODCACHE)/go.temporal.io/server@${TEMPORAL_SERVER_VERSION}/schema\` to ${join(cacheDir, 'schema')}`,
        'or set TEMPORAL_SERVER_DIR to a folder with `temporal-server`, `temporal-sql-tool` and `schema/`',
      ].join('\n'),
    );
    this.name = 'TemporalServerNotFoundError';
  }
}

/** `${XDG_CACHE_HOME:-~/.cache}/gatehouse/temporal-server-v1.32.2` */
export function temporalServerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'gatehouse', `temporal-server-${TEMPORAL_SERVER_VERSION}`);
}

/** The layout of a folder holding a build. */
export function binariesIn(dir: string): TemporalServerBinaries {
  return { server: join(dir, 'temporal-server'), sqlTool: join(dir, 'temporal-sql-tool'), schemaDir: join(dir, 'schema', 'postgresql', 'v12') };
}

/** Resolves the server, SQL tool and schema, building them with Go when needed. */
export async function findTemporalServer(options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {}): Promise<TemporalServerBinaries> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const cacheDir = temporalServerCacheDir(env);
  const attempts: TemporalServerAttempt[] = [];

  const explicit = env.TEMPORAL_SERVER_DIR;
  if (explicit) {
    const missing = await missingParts(binariesIn(explicit));
    if (!missing) return binariesIn(explicit);
    attempts.push({ source: 'TEMPORAL_SERVER_DIR', detail: `\`${explicit}\` lacks ${missing}` });
    throw new TemporalServerNotFoundError(attempts, cacheDir);
  }
  attempts.push({ source: 'TEMPORAL_SERVER_DIR', detail: 'not set' });

  const cached = binariesIn(cacheDir);
  const cacheMissing = await missingParts(cached);
  if (!cacheMissing) return cached;
  attempts.push({ source: 'cache', detail: `\`${cacheDir}\` lacks ${cacheMissing}` });

  const go = await whichExecutable('go', env.PATH);
  if (!go) {
    attempts.push({ source: 'go install', detail: 'no `go` on PATH' });
    throw new TemporalServerNotFoundError(attempts, cacheDir);
  }
  log(`gatehouse: building the temporal server ${TEMPORAL_SERVER_VERSION} with go (GOTOOLCHAIN=${TEMPORAL_SERVER_GOTOOLCHAIN}) into ${cacheDir} (about 10 minutes on 2 cores, once)`);
  const failure = await buildInto(go, cacheDir, env);
  const builtMissing = failure ? undefined : await missingParts(cached);
  if (!failure && !builtMissing) return cached;
  attempts.push({ source: 'go install', detail: failure ?? `finished but \`${cacheDir}\` lacks ${builtMissing}` });
  throw new TemporalServerNotFoundError(attempts, cacheDir);
}

async function missingParts(b: TemporalServerBinaries): Promise<string | undefined> {
  const missing: string[] = [];
  if (!(await isExecutable(b.server))) missing.push('`temporal-server`');
  if (!(await isExecutable(b.sqlTool))) missing.push('`temporal-sql-tool`');
  if (!(await isDirectory(join(b.schemaDir, 'temporal', 'versioned')))) missing.push('`schema/postgresql/v12`');
  return missing.length ? missing.join(', ') : undefined;
}

/** `go install` of both commands, renamed to their usual names, and the schema from the module cache. */
async function buildInto(go: string, cacheDir: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  await mkdir(cacheDir, { recursive: true });
  const goEnv = { ...env, GOBIN: cacheDir, GOTOOLCHAIN: TEMPORAL_SERVER_GOTOOLCHAIN };
  const installed = await run(go, ['install', ...TEMPORAL_SERVER_GO_PACKAGES], goEnv);
  if (installed.failure) return `\`go install\` failed: ${installed.failure}`;
  await rename(join(cacheDir, 'server'), join(cacheDir, 'temporal-server'));
  await rename(join(cacheDir, 'sql'), join(cacheDir, 'temporal-sql-tool'));
  const modCache = await run(go, ['env', 'GOMODCACHE'], goEnv);
  if (modCache.failure) return `\`go env GOMODCACHE\` failed: ${modCache.failure}`;
  const source = join(modCache.stdout.trim(), `go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`, 'schema');
  await cp(source, join(cacheDir, 'schema'), { recursive: true });
  return undefined;
}

/** Runs a command to its end: its stdout, or why it failed (the tail of its stderr). */
export function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<{ stdout: string; failure?: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
    let stdout = '';
    let tail = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (tail = (tail + chunk.toString('utf8')).slice(-2000)));
    child.on('error', (err) => resolve({ stdout, failure: `could not start: ${err.message}` }));
    child.on('close', (code, signal) => resolve(code === 0 ? { stdout } : { stdout, failure: `${signal ?? `exit ${code}`}: ${tail.trim().split('\n').slice(-3).join(' | ')}` }));
  });
}

export async function isExecutable(file: string): Promise<boolean> {
  try {
    if (!(await stat(file)).isFile()) return false;
    await access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function isDirectory(dir: string): Promise<boolean> {
  return stat(dir).then((s) => s.isDirectory(), () => false);
}

export async function whichExecutable(name: string, pathVar: string | undefined): Promise<string | undefined> {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (dir && (await isExecutable(join(dir, name)))) return join(dir, name);
  }
  return undefined;
}
