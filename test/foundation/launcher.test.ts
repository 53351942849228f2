/**
 * The dev-stack launchers under faults: a taken port, a server that dies or never answers during
 * start-up, a locked or foreign data directory, a stale lock file, a restart that keeps its data,
 * and a stop that leaves no process behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Connection, Client } from '@temporalio/client';
import pg from 'pg';
import { PortTakenError, preferredPort } from '../../worker/devstack/ports';
import { PostgresStartError, startEmbeddedPostgres } from '../../worker/devstack/postgres';
import { findTemporalCli } from '../../worker/devstack/temporal-binary';
import { FAST_DEV_SERVER_CONFIG, startTemporalDevServer, TemporalServerStartError } from '../../worker/devstack/temporal-server';
import { getTestServers } from '../support/servers';
import { eventually } from '../support/eventually';

let root: string;
let cliPath: string;
let held: Server;
let heldPort: number;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'gatehouse-launcher-'));
  // mkdtemp makes 0700 folders; the `postgres` user (when running as root) must get through.
  await chmod(root, 0o755);
  cliPath = (await getTestServers()).temporalCliPath || (await findTemporalCli());
  held = createServer();
  await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
  heldPort = (held.address() as { port: number }).port;
});

after(async () => {
  await new Promise((resolve) => held.close(resolve));
  await rm(root, { recursive: true, force: true });
});

/** True when no process is left in the process group `pid` led. */
function groupGone(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function fakeCli(name: string, body: string): Promise<string> {
  const file = join(root, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

test('an explicitly asked temporal port that is taken is refused with a clear error', async () => {
  await assert.rejects(startTemporalDevServer({ cliPath, port: heldPort, uiPort: false }), (err: unknown) => {
    assert.ok(err instanceof PortTakenError);
    assert.equal(err.type, 'PortTaken');
    assert.equal(err.message, `port \`${heldPort}\` on 127.0.0.1 is taken: cannot start the temporal frontend`);
    return true;
  });
});

test('a preferred port that is taken falls back to a free one', async () => {
  const port = await preferredPort(heldPort);
  assert.notEqual(port, heldPort);
  assert.ok(port > 0);
});

test('an explicitly asked postgres port that is taken is refused with a clear error', async () => {
  await assert.rejects(startEmbeddedPostgres({ dataDir: join(root, 'pg-port'), port: heldPort, noFsync: true }), PortTakenError);
});

test('a temporal server that dies during start-up is reported with its output, never awaited forever', async () => {
  const cli = await fakeCli('dies', 'echo "boom: cannot open database" >&2; exit 3');
  await assert.rejects(startTemporalDevServer({ cliPath: cli, uiPort: false }), (err: unknown) => {
    assert.ok(err instanceof TemporalServerStartError);
    assert.match(err.message, /exited during start-up \(exit 3\)/);
    assert.match(err.message, /boom: cannot open database/);
    return true;
  });
});

test('a temporal server that never answers times out, and its process is killed', async () => {
  const pidFile = join(root, 'hang.pid');
  const cli = await fakeCli('hangs', `echo $$ > "${pidFile}"; exec sleep 300`);
  await assert.rejects(startTemporalDevServer({ cliPath: cli, uiPort: false, startTimeoutMs: 1500 }), (err: unknown) => {
    assert.ok(err instanceof TemporalServerStartError);
    assert.match(err.message, /did not answer within 1500 ms/);
    return true;
  });
  const pid = Number((await readFile(pidFile, 'utf8')).trim());
  assert.ok(groupGone(pid), `process group ${pid} still has processes`);
});

test('a persisted temporal server keeps its workflows across a restart, and stop leaves no process', async () => {
  const dbFilename = join(root, 'temporal', 'state.sqlite');
  const workflowId = `launcher-persist-${Date.now()}`;
  const first = await startTemporalDevServer({ cliPath, dbFilename, uiPort: false });
  // Started with the fast settings (see FAST_DEV_SERVER_CONFIG); the second start asks for none.
  assert.deepEqual(dynamicConfigOf(first.pid), Object.entries(FAST_DEV_SERVER_CONFIG).map(([k, v]) => `${k}=${JSON.stringify(v)}`));
  {
    const connection = await Connection.connect({ address: first.address });
    const client = new Client({ connection, namespace: first.namespace });
    // No worker polls this queue: the workflow simply stays running.
    await client.workflow.start('neverPolled', { taskQueue: `test-launcher-${Date.now()}`, workflowId });
    await connection.close();
  }
  await first.stop();
  assert.ok(groupGone(first.pid));

  const second = await startTemporalDevServer({ cliPath, dbFilename, uiPort: false, dynamicConfig: {} });
  try {
    assert.deepEqual(dynamicConfigOf(second.pid), []);
    const connection = await Connection.connect({ address: second.address });
    const client = new Client({ connection, namespace: second.namespace });
    const described = await client.workflow.getHandle(workflowId).describe();
    assert.equal(described.status.name, 'RUNNING');
    await client.workflow.getHandle(workflowId).terminate('test done');
    await connection.close();
  } finally {
    await second.stop();
  }
  assert.ok(groupGone(second.pid));
});

test('a server whose launching process is SIGKILLed does not outlive it', async () => {
  const fixture = join(__dirname, 'fixtures', 'start-and-hang.fixture.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], { env: { ...process.env, FIXTURE_TEMPORAL_CLI: cliPath }, stdio: ['ignore', 'pipe', 'inherit'] });
  const serverPid = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /server pid (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`fixture exited (${code}) before starting a server: ${out}`)));
  });
  assert.equal(groupGone(serverPid), false);
  child.kill('SIGKILL');
  // No exit hook runs on SIGKILL: the watchdog notices within about a second.
  await eventually(() => groupGone(serverPid), { what: `temporal pid ${serverPid} to go with its SIGKILLed launcher`, everyMs: 100 });
});

test('the web ui answers over http when a ui port is given', async () => {
  const server = await startTemporalDevServer({ cliPath });
  try {
    assert.ok(server.uiUrl);
    const res = await fetch(server.uiUrl);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  } finally {
    await server.stop();
  }
});

test('postgres: a foreign non-empty data directory is refused and left untouched', async () => {
  const dataDir = join(root, 'foreign');
  await mkdir(dataDir, { recursive: true });
  await writeFile(join(dataDir, 'notes.txt'), 'mine');
  await assert.rejects(startEmbeddedPostgres({ dataDir, noFsync: true }), (err: unknown) => {
    assert.ok(err instanceof PostgresStartError);
    assert.equal(err.message, `data directory \`${dataDir}\` is not empty and holds no postgres cluster: empty it or choose another`);
    return true;
  });
});

test('postgres: a data directory the server user cannot reach is refused with a clear error', { skip: process.getuid?.() !== 0 && `not root (uid ${process.getuid?.()}): postgres runs as this user, who can reach the folder` }, async () => {
  const closed = join(root, 'closed');
  await mkdir(closed, { mode: 0o700 });
  await chmod(closed, 0o700);
  const dataDir = join(closed, 'pg');
  await assert.rejects(startEmbeddedPostgres({ dataDir, noFsync: true }), (err: unknown) => {
    assert.ok(err instanceof PostgresStartError);
    assert.match(err.message, /is not reachable by the `postgres` user/);
    return true;
  });
});

test('postgres: a locked data directory is refused, a stale lock is cleared, data survives a restart', async () => {
  const dataDir = join(root, 'cluster');
  const first = await startEmbeddedPostgres({ dataDir, noFsync: true });
  try {
    const client = new pg.Client({ connectionString: first.urlFor('postgres') });
    await client.connect();
    await client.query('CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$still here$$)');
    await client.end();
    await assert.rejects(startEmbeddedPostgres({ dataDir, noFsync: true }), (err: unknown) => {
      assert.ok(err instanceof PostgresStartError);
      assert.match(err.message, new RegExp(`is in use by postgres process ${first.pid}: stop it`));
      return true;
    });
  } finally {
    await first.stop();
  }
  assert.ok(groupGone(first.pid), 'postgres left a process behind');

  // A lock file left by a crash names a dead process: the next start clears it.
  await writeFile(join(dataDir, 'postmaster.pid'), '999999\n');
  const second = await startEmbeddedPostgres({ dataDir, noFsync: true, removeDataDirOnStop: true });
  try {
    const client = new pg.Client({ connectionString: second.urlFor('postgres') });
    await client.connect();
    const { rows } = await client.query<{ v: string }>('SELECT v FROM kept');
    await client.end();
    assert.deepEqual(rows, [{ v: 'still here' }]);
  } finally {
    await second.stop();
  }
  assert.ok(groupGone(second.pid));
});

/** The `--dynamic-config-value` arguments a running server was started with. */
function dynamicConfigOf(pid: number): string[] {
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  return args.flatMap((a, i) => (a === '--dynamic-config-value' ? [args[i + 1]!] : []));
}
