/**
 * How the Temporal CLI is found: each place in order, and one clear error naming every place
 * tried when none gives a binary. Runs with a made-up environment, never the real cache or PATH.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  findTemporalCli,
  TEMPORAL_CLI_VERSION,
  TemporalCliNotFoundError,
  temporalCliCacheDir,
} from '../../worker/devstack/temporal-binary';

let root: string;
const quiet = () => undefined;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'gatehouse-cli-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function executable(path: string): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, '#!/bin/sh\necho fake\n');
  await chmod(path, 0o755);
  return path;
}

/** An environment that hides every real place: empty PATH, a private cache, no download. */
function hiddenEnv(name: string): NodeJS.ProcessEnv {
  return { PATH: join(root, name, 'empty-bin'), XDG_CACHE_HOME: join(root, name, 'cache'), HOME: join(root, name), GATEHOUSE_TEMPORAL_DOWNLOAD: 'never' };
}

test('the cache folder follows XDG_CACHE_HOME, then HOME', () => {
  assert.equal(temporalCliCacheDir({ XDG_CACHE_HOME: '/x/cache' }), `/x/cache/gatehouse/temporal-${TEMPORAL_CLI_VERSION}`);
  assert.equal(temporalCliCacheDir({ HOME: '/home/u' }), `/home/u/.cache/gatehouse/temporal-${TEMPORAL_CLI_VERSION}`);
});

test('with nothing to find, the error names every place tried and how to fix it', async () => {
  const env = hiddenEnv('nothing');
  const err: unknown = await findTemporalCli({ env, log: quiet }).then(
    () => assert.fail('expected TemporalCliNotFoundError'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof TemporalCliNotFoundError);
  assert.equal(err.type, 'TemporalCliNotFound');
  assert.deepEqual(
    err.attempts.map((a) => a.source),
    ['TEMPORAL_CLI_PATH', 'PATH', 'cache', 'go install', 'sdk download'],
  );
  const cache = join(env.XDG_CACHE_HOME ?? '', 'gatehouse', `temporal-${TEMPORAL_CLI_VERSION}`);
  assert.match(err.message, /TEMPORAL_CLI_PATH: not set/);
  assert.ok(err.message.includes(`PATH: no \`temporal\` in \`${env.PATH}\``));
  assert.ok(err.message.includes(`cache: no executable at \`${join(cache, 'temporal')}\``));
  assert.match(err.message, /go install: no `go` on PATH/);
  assert.match(err.message, /sdk download: disabled by GATEHOUSE_TEMPORAL_DOWNLOAD=never/);
  assert.ok(err.message.includes(`GOBIN=${cache} go install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`));
});

test('a TEMPORAL_CLI_PATH that is not executable fails loudly instead of falling through', async () => {
  const env: NodeJS.ProcessEnv = { ...hiddenEnv('explicit'), TEMPORAL_CLI_PATH: join(root, 'explicit', 'missing') };
  // Even with a binary on PATH, a wrong explicit path is an error.
  const pathDir = join(root, 'explicit', 'bin');
  await executable(join(pathDir, 'temporal'));
  env.PATH = pathDir;
  await assert.rejects(findTemporalCli({ env, log: quiet }), (err: unknown) => {
    assert.ok(err instanceof TemporalCliNotFoundError);
    assert.deepEqual(err.attempts.map((a) => a.source), ['TEMPORAL_CLI_PATH']);
    assert.ok(err.message.includes(`\`${env.TEMPORAL_CLI_PATH}\` is not an executable file`));
    return true;
  });
});

test('places are tried in order: TEMPORAL_CLI_PATH, then PATH, then the cache', async () => {
  const env = hiddenEnv('order');
  const cached = await executable(join(temporalCliCacheDir(env), 'temporal'));
  assert.equal(await findTemporalCli({ env, log: quiet }), cached);

  const onPath = await executable(join(root, 'order', 'bin', 'temporal'));
  env.PATH = `${join(root, 'order', 'nothing-here')}:${join(root, 'order', 'bin')}`;
  assert.equal(await findTemporalCli({ env, log: quiet }), onPath);

  const explicit = await executable(join(root, 'order', 'explicit', 'temporal-custom'));
  env.TEMPORAL_CLI_PATH = explicit;
  assert.equal(await findTemporalCli({ env, log: quiet }), explicit);
});

test('a non-executable file in the cache is not taken for the binary', async () => {
  const env = hiddenEnv('noexec');
  const file = join(temporalCliCacheDir(env), 'temporal');
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, 'not a binary');
  await assert.rejects(findTemporalCli({ env, log: quiet }), TemporalCliNotFoundError);
});

test('with `go` on PATH, the binary is built into the cache with GOBIN and the exact package', async () => {
  const env = hiddenEnv('go-ok');
  const bin = join(root, 'go-ok', 'bin');
  await mkdir(bin, { recursive: true });
  // A stand-in `go` that records its arguments and installs a binary where GOBIN points.
  await writeFile(
    join(bin, 'go'),
    `#!/bin/sh\necho "$@" > "${join(root, 'go-ok', 'args')}"\nprintf '#!/bin/sh\\n' > "$GOBIN/temporal"\n/bin/chmod +x "$GOBIN/temporal"\n`,
  );
  await chmod(join(bin, 'go'), 0o755);
  env.PATH = bin;
  const lines: string[] = [];
  const found = await findTemporalCli({ env, log: (l) => lines.push(l) });
  assert.equal(found, join(temporalCliCacheDir(env), 'temporal'));
  assert.equal((await readFile(join(root, 'go-ok', 'args'), 'utf8')).trim(), `install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`);
  assert.equal(lines.length, 1);
});

test('a failing go build is reported with its output, then the download is tried', async () => {
  const env = hiddenEnv('go-fail');
  const bin = join(root, 'go-fail', 'bin');
  await mkdir(bin, { recursive: true });
  await writeFile(join(bin, 'go'), '#!/bin/sh\necho "dial tcp: lookup proxy.golang.org: no such host" >&2\nexit 1\n');
  await chmod(join(bin, 'go'), 0o755);
  env.PATH = bin;
  await assert.rejects(findTemporalCli({ env, log: quiet }), (err: unknown) => {
    assert.ok(err instanceof TemporalCliNotFoundError);
    const goAttempt = err.attempts.find((a) => a.source === 'go install');
    assert.match(goAttempt?.detail ?? '', /failed \(exit 1\): dial tcp: lookup proxy\.golang\.org: no such host/);
    assert.equal(err.attempts.at(-1)?.source, 'sdk download');
    return true;
  });
});
