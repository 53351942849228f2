/**
 * The production shape's bad inputs: no server binary and no Go (every place tried is named), a
 * database whose Temporal schema is newer than the server (both versions named, nothing started),
 * and a worker pointed at a namespace that does not exist (a clear error, not a hang).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Connection } from '@temporalio/client';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../worker/devstack/postgres';
import { LOCALHOST } from '../../worker/devstack/ports';
import { startTemporalFullServer } from '../../worker/devstack/temporal-full-server';
import { setUpTemporalSchema, TemporalSchemaVersionError } from '../../worker/devstack/temporal-schema';
import { findTemporalServer, TEMPORAL_SCHEMA_VERSION, TemporalServerNotFoundError } from '../../worker/devstack/temporal-server-binary';
import { startWorkerProcess, WorkerProcessError } from '../../worker/devstack/worker-process';
import { createTestDatabase, getTestServers } from '../support/servers';
import { writeTestKeys } from '../support/trust';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-prod-faults-'));
  chmodSync(dir, 0o755);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('finding the server', () => {
  it('with no build cached and no go on PATH, names every place tried and the go command to run', async () => {
    const env = { PATH: join(dir, 'empty-bin'), HOME: dir, XDG_CACHE_HOME: join(dir, 'cache') };
    await assert.rejects(findTemporalServer({ env, log: () => undefined }), (err: unknown) => {
      assert.ok(err instanceof TemporalServerNotFoundError);
      assert.deepEqual(err.attempts.map((a) => a.source), ['TEMPORAL_SERVER_DIR', 'cache', 'go install']);
      assert.equal(err.attempts[2]?.detail, 'no `go` on PATH');
      assert.match(err.message, /GOTOOLCHAIN=go1\.27\.3 GOBIN=\S+ go install go\.temporal\.io\/server\/cmd\/server@v1\.32\.2 go\.temporal\.io\/server\/cmd\/tools\/sql@v1\.32\.2/);
      return true;
    });
  });

  it('a TEMPORAL_SERVER_DIR without the binaries is an error, not a fallthrough', async () => {
    const env = { PATH: process.env.PATH, HOME: dir, TEMPORAL_SERVER_DIR: dir };
    await assert.rejects(findTemporalServer({ env, log: () => undefined }), (err: unknown) => {
      assert.ok(err instanceof TemporalServerNotFoundError);
      assert.equal(err.attempts.length, 1);
      assert.equal(err.attempts[0]?.detail, `\`${dir}\` lacks \`temporal-server\`, \`temporal-sql-tool\`, \`schema/postgresql/v12\``);
      return true;
    });
  });
});

describe('the schema', () => {
  let postgres: EmbeddedPostgres;
  before(async () => {
    postgres = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), noFsync: true });
  });
  after(async () => {
    await postgres?.stop();
  });

  it('a database set up by a newer server is refused, naming both versions, and left untouched', async () => {
    const target = { host: LOCALHOST, port: postgres.port, user: postgres.user, password: postgres.password };
    const binaries = await findTemporalServer();
    assert.deepEqual(await setUpTemporalSchema(binaries, target), { temporal: TEMPORAL_SCHEMA_VERSION, temporal_visibility: '1.14' });
    const db = new pg.Client({ connectionString: postgres.urlFor('temporal') });
    await db.connect();
    try {
      await db.query("UPDATE schema_version SET curr_version = '1.25'");
      await assert.rejects(startTemporalFullServer({ binaries, postgres: target, stateDir: join(dir, 'state') }), (err: unknown) => {
        assert.ok(err instanceof TemporalSchemaVersionError);
        assert.equal(err.message, `database \`temporal\` has temporal schema version 1.25, but temporal server v1.32.2 needs ${TEMPORAL_SCHEMA_VERSION}: it was set up by a newer server: run that server, or a fresh database`);
        return true;
      });
      const after = await db.query('SELECT curr_version FROM schema_version');
      assert.deepEqual(after.rows, [{ curr_version: '1.25' }]);
    } finally {
      await db.end();
    }
  });
});

describe('the namespace', () => {
  it('a worker process pointed at a namespace that does not exist exits with a clear error', async () => {
    const servers = await getTestServers();
    const audit = await createTestDatabase('prod_faults_audit');
    const production = await createTestDatabase('prod_faults_prod');
    const connection = await Connection.connect({ address: servers.temporalAddress });
    try {
      await assert.rejects(
        startWorkerProcess({
          temporalAddress: servers.temporalAddress,
          namespace: 'no-such-namespace',
          taskQueue: 'test-faults',
          databaseUrl: audit.url,
          productionDatabaseUrl: production.url,
          keysFile: writeTestKeys(join(dir, 'keys')),
          dataDir: join(dir, 'worker-data'),
          workflowService: connection.workflowService,
          timeoutMs: 120_000,
        }),
        (err: unknown) => {
          assert.ok(err instanceof WorkerProcessError);
          assert.match(err.message, /exited during start-up: .*namespace `no-such-namespace` does not exist on this temporal server: set TEMPORAL_NAMESPACE/s);
          return true;
        },
      );
    } finally {
      await connection.close();
      await audit.drop();
      await production.drop();
    }
  });
});
