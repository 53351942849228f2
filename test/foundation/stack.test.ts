/**
 * `gatehouse start`'s stack (worker/devstack/stack.ts) on a private data folder: it brings up
 * Temporal and PostgreSQL, migrates and seeds, writes the stack file other commands read, and
 * stops everything — also when aborted during start-up — leaving no process; a broken policy
 * stops it before anything starts; with TEMPORAL_ADDRESS / DATABASE_URL it starts no server at all.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { DEFAULT_RUNTIME_ROLE } from '../../audit/roles';
import { invite } from '../../cli/commands/invite';
import { loadConfig } from '../../client/config';
import { freePort } from '../../worker/devstack/ports';
import { startStack, StackAbortedError, StackAlreadyRunningError } from '../../worker/devstack/stack';
import { getTestServers } from '../support/servers';
import { connectDemo, demoConfig } from '../../demo/context';

let root: string;
const quiet = () => undefined;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'gatehouse-stack-'));
  await chmod(root, 0o755); // the postgres user must get through when running as root
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Pids of processes whose command line mentions `text` (servers started on a data folder). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** An environment with no external deployment and a private data folder. */
async function env(name: string): Promise<NodeJS.ProcessEnv> {
  const e: NodeJS.ProcessEnv = { ...process.env, GATEHOUSE_DATA_DIR: join(root, name) };
  for (const key of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'DATABASE_URL', 'GATEHOUSE_PRODUCTION_DATABASE_URL', 'GATEHOUSE_STACK_FILE', 'SLACK_BOT_TOKEN', 'GATEHOUSE_KEYS', 'GATEHOUSE_ENV', 'GATEHOUSE_POLICIES', 'GATEHOUSE_POLICY']) {
    delete e[key];
  }
  return e;
}

/** Runs `fn` with an environment pointing at the test servers (Temporal, two fresh databases): the stack starts no server. */
async function withExternal(name: string, extra: NodeJS.ProcessEnv, fn: (e: NodeJS.ProcessEnv) => Promise<void>): Promise<void> {
  const servers = await getTestServers();
  const admin = new pg.Client({ connectionString: servers.postgres.adminUrl });
  await admin.connect();
  const suffix = Date.now().toString(36);
  const auditDb = `stack_${name}_audit_${suffix}`;
  const productionDb = `stack_${name}_prod_${suffix}`;
  await admin.query(`CREATE DATABASE ${auditDb}`);
  await admin.query(`CREATE DATABASE ${productionDb}`);
  try {
    await fn({
      ...(await env(name)),
      TEMPORAL_ADDRESS: servers.temporalAddress,
      TEMPORAL_NAMESPACE: servers.namespace,
      DATABASE_URL: servers.postgres.urlFor(auditDb),
      GATEHOUSE_PRODUCTION_DATABASE_URL: servers.postgres.urlFor(productionDb),
      ...extra,
    });
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${auditDb} WITH (FORCE)`);
    await admin.query(`DROP DATABASE IF EXISTS ${productionDb} WITH (FORCE)`);
    await admin.end();
  }
}

test('the embedded stack comes up, tells other commands where it is, and stops leaving nothing', async () => {
  const e = await env('embedded');
  const dataDir = e.GATEHOUSE_DATA_DIR ?? '';
  const stack = await startStack({ env: e, worker: false, temporalPort: await freePort(), uiPort: await freePort(), log: quiet });
  try {
    const config = loadConfig(e);
    assert.equal(config.temporalAddress, stack.stackFile.temporal.address);
    assert.equal(config.databaseUrl, stack.stackFile.databaseUrl);
    assert.equal(config.productionDatabaseUrl, stack.stackFile.productionDatabaseUrl);
    assert.ok(existsSync(join(dataDir, 'stack.json')));
    assert.ok(existsSync(join(dataDir, 'temporal.sqlite')));
    assert.deepEqual(stack.parts.map((p) => p.name).slice(0, 3), ['temporal', 'temporal web ui', 'temporal access']);
    // The banner says what the dev server leaves open.
    assert.equal(stack.parts[2]?.where, 'no tls: any local process can drive the dev server; `--temporal server` isolates the namespace with mutual tls');
    assert.equal(stack.stackFile.temporal.tls, undefined, 'the dev server has no certificates to name');

    // The people's console, on localhost (WebAuthn takes no IP address), and an invite to it.
    const consoleUrl = stack.stackFile.console?.url ?? '';
    assert.match(consoleUrl, /^http:\/\/localhost:\d+\/$/);
    // On 4781 unless another stack holds it; then the part says so after the URL.
    assert.ok(stack.parts.some((p) => p.name === 'console' && p.where.startsWith(consoleUrl)));
    const page = await fetch(consoleUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module" src="\/assets\/app.js"><\/script>/);
    const made = await invite('alice', 'approver', '1h', e);
    assert.ok(made.link.startsWith(`${consoleUrl}enrol#`), made.link);

    const ui = await fetch(stack.stackFile.temporal.uiUrl ?? 'http://missing');
    assert.equal(ui.status, 200);
    await ui.arrayBuffer();

    // A workflow can be started against it (nothing polls this queue, so it stays running).
    const connection = await Connection.connect({ address: config.temporalAddress });
    const client = new Client({ connection, namespace: config.namespace });
    const handle = await client.workflow.start('agentSession', { taskQueue: `test-stack-${Date.now()}`, workflowId: `stack-${Date.now()}`, args: [{}] });
    assert.equal((await handle.describe()).status.name, 'RUNNING');
    await handle.terminate('test done');
    await connection.close();

    // The gateway's audit pool runs as the runtime role: it may read the trail, never rewrite it.
    const gatewayPool = stack.auditPools.gateway;
    assert.ok(gatewayPool, 'the gateway was given an audit pool');
    assert.equal((await gatewayPool.query<{ u: string }>('SELECT current_user AS u')).rows[0]?.u, DEFAULT_RUNTIME_ROLE);
    for (const sql of ['UPDATE events SET kind = kind', 'DELETE FROM events', 'UPDATE alerts SET message = message']) {
      await assert.rejects(gatewayPool.query(sql), (err: unknown) => {
        assert.equal((err as { code?: string }).code, '42501', `${sql}: ${String(err)}`);
        return true;
      });
    }
    assert.equal(stack.auditPools.worker, undefined, 'no worker was started');

    const audit = new pg.Client({ connectionString: config.databaseUrl });
    await audit.connect();
    const migrations = await audit.query('SELECT count(*)::int AS n FROM schema_migrations');
    await audit.end();
    assert.ok((migrations.rows[0] as { n: number }).n > 0);
    const production = new pg.Client({ connectionString: config.productionDatabaseUrl });
    await production.connect();
    const seed = await production.query('SELECT count(*)::int AS n FROM sample_seed');
    await production.end();
    assert.equal((seed.rows[0] as { n: number }).n, 1);
  } finally {
    await stack.stop();
  }
  assert.equal(existsSync(join(dataDir, 'stack.json')), false);
  assert.deepEqual(processesMentioning(dataDir), []);
});

test('a second start on a data folder a live stack owns is refused before starting anything', async () => {
  const e = await env('busy');
  const dataDir = e.GATEHOUSE_DATA_DIR ?? '';
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dataDir, { recursive: true });
  // The parent of this process stands in for the other, live `gatehouse start`.
  await writeFile(join(dataDir, 'stack.json'), JSON.stringify({ pid: process.ppid, temporal: { address: '127.0.0.1:1', namespace: 'default' } }));
  await assert.rejects(startStack({ env: e, worker: false, log: quiet }), (err: unknown) => {
    assert.ok(err instanceof StackAlreadyRunningError);
    assert.match(err.message, new RegExp(`^gatehouse is already running \\(pid ${process.ppid}, `));
    return true;
  });
  assert.deepEqual(processesMentioning(dataDir), []);
});

test('a broken policy file is refused before anything starts, naming the file and the problem', async () => {
  const e = await env('bad-policy');
  const dataDir = e.GATEHOUSE_DATA_DIR ?? '';
  const policyFile = join(root, 'broken-policy.yaml');
  await writeFile(policyFile, 'version: 1\nbudget:\n  actions: -5\n');
  const lines: string[] = [];
  await assert.rejects(startStack({ env: e, policyFile, log: (l) => lines.push(l) }), (err: unknown) => {
    assert.ok(err instanceof Error);
    assert.match(err.message, /^invalid policy `.*broken-policy\.yaml`: budget\.actions: /);
    return true;
  });
  assert.deepEqual(lines.filter((l) => l.includes('starting')), [], 'no server was started');
  assert.deepEqual(processesMentioning(dataDir), []);
  assert.equal(existsSync(join(dataDir, 'stack.json')), false);
});

test('an abort during start-up stops what already started and leaves no process', async () => {
  const e = await env('aborted');
  const dataDir = e.GATEHOUSE_DATA_DIR ?? '';
  const abort = new AbortController();
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(line);
    // Temporal is up by the time postgres starts: interrupt right there.
    if (line.includes('starting postgres')) abort.abort();
  };
  await assert.rejects(startStack({ env: e, worker: false, temporalPort: await freePort(), uiPort: await freePort(), log, signal: abort.signal }), StackAbortedError);
  assert.ok(lines.some((l) => l.includes('starting the temporal dev server')));
  assert.deepEqual(processesMentioning(dataDir), []);
  assert.equal(existsSync(join(dataDir, 'stack.json')), false);
});

test('TEMPORAL_ADDRESS and DATABASE_URL switch to external deployments: no server is started', async () => {
  await withExternal('ext', {}, async (e) => {
    const servers = await getTestServers();
    const stack = await startStack({ env: e, worker: false, log: quiet });
    try {
      assert.equal(stack.stackFile.temporal.embedded, false);
      assert.equal(stack.stackFile.temporal.address, servers.temporalAddress);
      assert.equal(stack.stackFile.postgres, undefined);
      assert.deepEqual(processesMentioning(e.GATEHOUSE_DATA_DIR ?? ''), []);
      const audit = new pg.Client({ connectionString: e.DATABASE_URL });
      await audit.connect();
      const migrated = await audit.query("SELECT to_regclass('schema_migrations') AS t");
      await audit.end();
      assert.equal((migrated.rows[0] as { t: string | null }).t, 'schema_migrations');
      // A real production database is never seeded with sample data.
      const production = new pg.Client({ connectionString: e.GATEHOUSE_PRODUCTION_DATABASE_URL });
      await production.connect();
      const seeded = await production.query("SELECT to_regclass('sample_seed') AS t");
      await production.end();
      assert.equal((seeded.rows[0] as { t: string | null }).t, null);
    } finally {
      await stack.stop();
    }
  });
});

test('--catalog: the stack\'s worker gates the tools of your own catalog module instead of the sample ones; a module without createCatalog is refused', async () => {
  await withExternal('catalog', { GATEHOUSE_TASK_QUEUE: `stack-catalog-${Date.now().toString(36)}` }, async (e) => {
    await assert.rejects(
      startStack({ env: e, catalogModule: join(__dirname, 'fixtures', 'not-a-catalog.ts'), log: quiet }),
      /catalog module `.*not-a-catalog\.ts` does not export `createCatalog`/,
    );
    const lines: string[] = [];
    const stack = await startStack({ env: e, catalogModule: join(__dirname, 'fixtures', 'catalog-module.ts'), log: (l) => lines.push(l) });
    try {
      assert.match(stack.parts.find((p) => p.name === 'worker')?.where ?? '', /catalog .*catalog-module\.ts$/);
      const config = demoConfig(e); // the running stack's file, as a second terminal finds it
      const gh = await connectDemo(config);
      try {
        const session = await gh.startSession({ agentId: 'clock-bot', owner: 'eng-007', intent: 'read the database clock' });
        const now = await session.propose({ tool: 'clock.now', args: {}, reasoning: 'what time is it' });
        assert.equal(now.status, 'executed');
        assert.match((now.result as { now: string }).now, /^\d{4}-\d{2}-\d{2} /);
        const sample = await session.propose({ tool: 'billing.query', args: { testOnly: true }, reasoning: 'a sample tool' });
        assert.equal(sample.status, 'denied');
        assert.deepEqual(sample.decision.reasons.map((r) => r.rule), ['tool.unknown']);
        await session.end({});
      } finally {
        await gh.close();
      }
    } finally {
      await stack.stop();
    }
  });
});
