/**
 * Red team: a stdio upstream MCP server reads the worker's secrets. The worker spawns it with a
 * stripped environment (the MCP SDK's `PATH`, `HOME`, … plus its own `env`), but it is the worker's
 * child, run as the same OS user: `/proc/<ppid>/environ` is the environment the worker started with
 * (in the compose stack: both database URLs, Slack and Temporal secrets, every upstream's
 * credentials), and the worker's key files are readable too. So under `GATEHOUSE_ENV=production`
 * the worker refuses to start a stdio server unless the operator opts in with
 * `GATEHOUSE_ALLOW_STDIO_UPSTREAMS=1`, and then logs that it can read the worker's secrets.
 *
 * Real pieces: the worker's `startWorkerUpstreams` and `UpstreamConnection`, PostgreSQL, and a stdio
 * server built with the MCP SDK whose tool answers its parent's environment (fixtures/environ-server.ts).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { createCatalog } from '../../activities/tools/catalog';
import { UpstreamConfigError, type NamedUpstream } from '../../activities/upstreams';
import { checkStdioInProduction, STDIO_REFUSED_IN_PRODUCTION } from '../../activities/upstreams/stdio-in-production';
import { startWorkerUpstreams } from '../../worker/upstreams';
import { createTestDatabase, type TestDatabase } from '../support/servers';

const ROOT = join(__dirname, '..', '..');
const FIXTURE = require.resolve('./fixtures/environ-server.ts');

interface EnvironAnswer {
  readonly own: Record<string, string>;
  readonly parent: Record<string, string>;
}

/** `KEY=value\0…` as a map. */
function environOf(text: string): Record<string, string> {
  return Object.fromEntries(text.split('\0').filter(Boolean).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

describe('red team: a stdio upstream server reads the worker it runs under', () => {
  it("reads its parent's start environment, which its own stripped environment left out", async () => {
    // The marker is in the parent's environment at exec time: the worker stand-in is spawned with it.
    const marker = `marker-${randomBytes(8).toString('hex')}`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', FIXTURE, 'parent'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', GATEHOUSE_TEST_WORKER_SECRET: marker },
      timeout: 60_000,
    });
    const answer = JSON.parse(stdout) as EnvironAnswer;
    assert.equal(answer.own.GATEHOUSE_TEST_WORKER_SECRET, undefined, 'the worker passed its secret on');
    assert.equal(answer.parent.GATEHOUSE_TEST_WORKER_SECRET, marker);
  });
});

describe('red team: a production worker and stdio upstreams', () => {
  let db: TestDatabase;
  let dir: string;
  let configFile: string;
  before(async () => {
    db = await createTestDatabase('redteam_upstream_environ');
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-upstream-environ-'));
    configFile = join(dir, 'gatehouse.yaml');
    const args = JSON.stringify(['--import', 'tsx', FIXTURE]);
    await writeFile(configFile, `mcp:\n  upstreams:\n    peek:\n      command: ${JSON.stringify(process.execPath)}\n      args: ${args}\n      cwd: ${JSON.stringify(ROOT)}\n`);
  });
  after(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const [what, env] of [
    ['without an opt-in', { GATEHOUSE_ENV: 'production' }],
    ['with an opt-in other than `1`', { GATEHOUSE_ENV: ' Production ', GATEHOUSE_ALLOW_STDIO_UPSTREAMS: 'true' }],
  ] as const) {
    it(`refuses to start a stdio server ${what}, naming it, and starts nothing`, async () => {
      const catalog = createCatalog([], { database: db.pool });
      const lines: string[] = [];
      let outcome: unknown;
      try {
        const started = await startWorkerUpstreams({ configFile, catalog, auditPool: db.pool, env, log: (l) => lines.push(l) });
        outcome = `started: ${catalog.names().join(', ')}`;
        await started?.close();
      } catch (err) {
        outcome = err;
      }
      assert.ok(outcome instanceof UpstreamConfigError, String(outcome));
      assert.deepEqual(outcome.issues, [{ path: 'mcp.upstreams.peek', message: STDIO_REFUSED_IN_PRODUCTION }]);
      assert.equal(outcome.message, `invalid configuration \`${configFile}\`: mcp.upstreams.peek: ${STDIO_REFUSED_IN_PRODUCTION}`);
      assert.deepEqual(catalog.names(), []);
      assert.deepEqual(lines, []);
      const published = await db.pool.query(`SELECT server FROM upstream_tools WHERE server = 'peek'`);
      assert.equal(published.rowCount, 0);
    });
  }

  it("starts it with `GATEHOUSE_ALLOW_STDIO_UPSTREAMS=1`, warning that it can read the worker's secrets (and it can)", async () => {
    const catalog = createCatalog([], { database: db.pool });
    const lines: string[] = [];
    const manager = await startWorkerUpstreams({ configFile, catalog, auditPool: db.pool, env: { GATEHOUSE_ENV: 'production', GATEHOUSE_ALLOW_STDIO_UPSTREAMS: '1' }, log: (l) => lines.push(l) });
    try {
      assert.ok(manager);
      assert.deepEqual(catalog.names(), ['peek.environ']);
      assert.equal(lines[0], `warning: \`GATEHOUSE_ALLOW_STDIO_UPSTREAMS=1\`: the stdio upstream \`peek\` runs as the worker's user and can read the worker's secrets (its environment in \`/proc/${process.pid}/environ\`, its key files)`);
      // This test process is the worker here: the server reads exactly what it started with.
      const r = await manager.connection('peek')!.callTool('environ', {}, { signal: AbortSignal.timeout(10_000), timeoutMs: 10_000 });
      const answer = JSON.parse((r.content[0] as { text: string }).text) as EnvironAnswer;
      assert.deepEqual(answer.parent, environOf(await readFile('/proc/self/environ', 'utf8')));
    } finally {
      await manager?.close();
    }
  });

  it('lets Streamable HTTP servers start in production, and everything in development', () => {
    const http = { name: 'search', url: 'https://mcp.example.com/mcp', headers: {}, timeoutMs: 30_000, maxAttempts: 3, sensitive: {} } as NamedUpstream;
    const stdio = { name: 'fs', command: 'npx', args: [], env: {}, timeoutMs: 30_000, maxAttempts: 3, sensitive: {} } as NamedUpstream;
    assert.equal(checkStdioInProduction('g.yaml', [http], { production: true, allowed: false }), undefined);
    assert.equal(checkStdioInProduction('g.yaml', [http, stdio], { production: false, allowed: false }), undefined);
    assert.throws(() => checkStdioInProduction('g.yaml', [http, stdio], { production: true, allowed: false }), (err: unknown) => err instanceof UpstreamConfigError && err.issues.length === 1 && err.issues[0]!.path === 'mcp.upstreams.fs');
  });
});
