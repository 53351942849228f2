/**
 * Finds Temporal's Web UI server (`temporal-ui-server`, the `cmd/server` of
 * `github.com/temporalio/ui-server/v2`, with the UI's built assets embedded) — what
 * `gatehouse start --temporal server` runs beside the full server. Same pattern as the server's
 * (`temporal-server-binary.ts`); the first place that yields it wins:
 * 1. `TEMPORAL_UI_DIR` (a folder holding `temporal-ui-server`; a wrong one is an error, not a fallthrough);
 * 2. the cached build `${XDG_CACHE_HOME:-~/.cache}/gatehouse/temporal-ui-v2.58.1/`;
 * 3. `go build` in a throwaway module that requires the UI server and `go.temporal.io/api` v1.64.1:
 *    the release pins v1.64.0, whose module archive the Go proxy no longer serves (403), and
 *    `go install pkg@version` cannot raise a dependency; v1.64.1 is that API's next patch.
 *
 * When none works, {@link TemporalUiNotFoundError} lists every place tried and how to fix it.
 */
import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEMPORAL_SERVER_GOTOOLCHAIN, isExecutable, run, temporalServerCacheDir, whichExecutable } from './temporal-server-binary';

/** The UI server release Gatehouse builds and tests (the one the Temporal CLI v1.5 line embeds). */
export const TEMPORAL_UI_VERSION = 'v2.58.1';
export const TEMPORAL_UI_GO_PACKAGE = 'github.com/temporalio/ui-server/v2/cmd/server';
/** The API module version the build raises to (see the module comment). */
export const TEMPORAL_UI_API_VERSION = 'v1.64.1';
export const TEMPORAL_UI_BINARY = 'temporal-ui-server';

/** The build module's go.mod: `go build` of the UI server's command inside it. */
export const TEMPORAL_UI_BUILD_GO_MOD = `module gatehouse.local/temporal-ui-build

go 1.26.10

require (
\tgithub.com/temporalio/ui-server/v2 ${TEMPORAL_UI_VERSION}
\tgo.temporal.io/api ${TEMPORAL_UI_API_VERSION}
)
`;

export interface TemporalUiAttempt {
  readonly source: 'TEMPORAL_UI_DIR' | 'cache' | 'go build';
  readonly detail: string;
}

/** Thrown when the UI server can be neither found nor built. */
export class TemporalUiNotFoundError extends Error {
  readonly type = 'TemporalUiNotFound';
  constructor(readonly attempts: readonly TemporalUiAttempt[], readonly cacheDir: string) {
    super(
      [
        'temporal ui server not found: tried, in order:',
        ...attempts.map((a, i) => `  ${i + 1}. ${a.source}: ${a.detail}`),
        `to fix: install Go (https://go.dev/dl) and run \`.ci/run\` once (it builds ${join(cacheDir, TEMPORAL_UI_BINARY)}),`,
        'or set TEMPORAL_UI_DIR to a folder with `temporal-ui-server`',
      ].join('\n'),
    );
    this.name = 'TemporalUiNotFoundError';
  }
}

/** `${XDG_CACHE_HOME:-~/.cache}/gatehouse/temporal-ui-v2.58.1` (beside the server's build). */
export function temporalUiCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(temporalServerCacheDir(env), '..', `temporal-ui-${TEMPORAL_UI_VERSION}`);
}

/**
 * The binary already there, without building: `TEMPORAL_UI_DIR`'s (set: always that path, so a
 * missing binary fails where it must exist, as in CI) or the cache's; undefined when neither is.
 */
export function builtTemporalUi(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.TEMPORAL_UI_DIR) return join(env.TEMPORAL_UI_DIR, TEMPORAL_UI_BINARY);
  const file = join(temporalUiCacheDir(env), TEMPORAL_UI_BINARY);
  try {
    accessSync(file, fsConstants.X_OK);
    return file;
  } catch {
    return undefined;
  }
}

/** Resolves the UI server's binary, building it with Go when needed. */
export async function findTemporalUi(options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {}): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const cacheDir = temporalUiCacheDir(env);
  const attempts: TemporalUiAttempt[] = [];
  const explicit = env.TEMPORAL_UI_DIR;
  if (explicit) {
    if (await isExecutable(join(explicit, TEMPORAL_UI_BINARY))) return join(explicit, TEMPORAL_UI_BINARY);
    attempts.push({ source: 'TEMPORAL_UI_DIR', detail: `\`${explicit}\` lacks \`${TEMPORAL_UI_BINARY}\`` });
    throw new TemporalUiNotFoundError(attempts, cacheDir);
  }
  attempts.push({ source: 'TEMPORAL_UI_DIR', detail: 'not set' });
  const cached = join(cacheDir, TEMPORAL_UI_BINARY);
  if (await isExecutable(cached)) return cached;
  attempts.push({ source: 'cache', detail: `\`${cacheDir}\` lacks \`${TEMPORAL_UI_BINARY}\`` });
  const go = await whichExecutable('go', env.PATH);
  if (!go) {
    attempts.push({ source: 'go build', detail: 'no `go` on PATH' });
    throw new TemporalUiNotFoundError(attempts, cacheDir);
  }
  log(`gatehouse: building the temporal ui server ${TEMPORAL_UI_VERSION} with go (GOTOOLCHAIN=${TEMPORAL_SERVER_GOTOOLCHAIN}) into ${cacheDir} (a few minutes, once)`);
  const failure = await buildInto(go, cached, env);
  if (!failure && (await isExecutable(cached))) return cached;
  attempts.push({ source: 'go build', detail: failure ?? `finished but \`${cached}\` is missing` });
  throw new TemporalUiNotFoundError(attempts, cacheDir);
}

async function buildInto(go: string, output: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  await mkdir(join(output, '..'), { recursive: true });
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-temporal-ui-build-'));
  try {
    await writeFile(join(dir, 'go.mod'), TEMPORAL_UI_BUILD_GO_MOD);
    const built = await run(go, ['build', '-mod=mod', '-o', output, TEMPORAL_UI_GO_PACKAGE], { ...env, GOTOOLCHAIN: TEMPORAL_SERVER_GOTOOLCHAIN }, dir);
    return built.failure ? `\`go build\` failed: ${built.failure}` : undefined;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
