/**
 * The production shape for one test file: the full Temporal server (`temporal-server` v1.32.2) on a
 * PostgreSQL of its own (so either can be restarted without touching the suite's shared servers),
 * the test catalogue's databases on the suite's PostgreSQL, and worker processes
 * (`worker/main.ts`) on one task queue. Everything binds 127.0.0.1 and is stopped by `stop()`.
 * The frontend requires mutual TLS, as `gatehouse start --temporal server` runs it: the worker
 * processes get their certificate through `TEMPORAL_TLS_*`, the tests connect with `tls(role)`.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, type TLSConfig } from '@temporalio/client';
import { stackTemporalSecurity, type TemporalClientRole } from '../../client/config';
import { seedSampleProduction } from '../../activities/tools/sample';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../worker/devstack/postgres';
import { LOCALHOST } from '../../worker/devstack/ports';
import { startTemporalFullServer, type TemporalFullServer } from '../../worker/devstack/temporal-full-server';
import { findTemporalServer, type TemporalServerBinaries } from '../../worker/devstack/temporal-server-binary';
import { ensureTemporalTls } from '../../worker/devstack/temporal-tls';
import { startWorkerProcess, type WorkerProcess } from '../../worker/devstack/worker-process';
import { createTestDatabase, type TestDatabase } from '../support/servers';
import { writeTestKeys } from '../support/trust';
import { TEST_POLICY, TEST_WRITES_DDL } from '../workflows/fixtures/catalog';
import { workerBundleFile } from '../support/worker-bundle';

export interface TestCluster {
  readonly address: string;
  readonly namespace: string;
  readonly audit: TestDatabase;
  readonly production: TestDatabase;
  /** The TLS settings a process of `role` connects with (its own client certificate). */
  tls(role: TemporalClientRole): TLSConfig;
  server(): TemporalFullServer;
  postgres(): EmbeddedPostgres;
  /** A worker process on `taskQueue`, ready once the server lists it as a poller. */
  spawnWorker(taskQueue: string): Promise<WorkerProcess>;
  /** SIGKILL of the Temporal server, then a new one on the same ports and databases. */
  restartServer(): Promise<void>;
  /** Fast shutdown of the server's PostgreSQL, then a new one on the same port and data. */
  restartPostgres(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestCluster(name: string): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), `gatehouse-${name}-`));
  chmodSync(dir, 0o755); // the postgres user must get through when running as root
  const pgDir = join(dir, 'temporal-postgres');
  const binaries: TemporalServerBinaries = await findTemporalServer();
  let postgres = await startEmbeddedPostgres({ dataDir: pgDir, noFsync: true });
  const target = { host: LOCALHOST, port: postgres.port, user: postgres.user, password: postgres.password };
  const stateDir = join(dir, 'temporal-server');
  const certs = await ensureTemporalTls(join(dir, 'temporal-tls'));
  const serverTls = { ...certs, admin: certs.clients.cli };
  const tls = (role: TemporalClientRole): TLSConfig => stackTemporalSecurity(certs, role).tls as TLSConfig;
  let server = await startTemporalFullServer({ binaries, postgres: target, stateDir, tls: serverTls });
  const audit = await createTestDatabase(`${name}_audit`);
  const production = await createTestDatabase(`${name}_prod`);
  await seedSampleProduction(production.pool);
  await production.pool.query(TEST_WRITES_DDL);
  const policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(TEST_POLICY));
  const keysFile = writeTestKeys(join(dir, 'keys'));
  const workers: WorkerProcess[] = [];

  return {
    address: server.address,
    namespace: server.namespace,
    audit,
    production,
    tls,
    server: () => server,
    postgres: () => postgres,
    async spawnWorker(taskQueue) {
      const connection = await Connection.connect({ address: server.address, tls: tls('cli') });
      try {
        const w = await startWorkerProcess({
          tls: { caFile: certs.caFile, serverName: certs.serverName, ...certs.clients.worker },
          temporalAddress: server.address,
          namespace: server.namespace,
          taskQueue,
          databaseUrl: audit.url,
          productionDatabaseUrl: production.url,
          policyFile,
          keysFile,
          catalogModule: join(__dirname, '..', 'workflows', 'fixtures', 'catalog.ts'),
          workflowBundleFile: await workerBundleFile(dir),
          // Not a running stack's: the worker must not find one and use its settings.
          dataDir: join(dir, 'worker-data'),
          workflowService: connection.workflowService,
          timeoutMs: 180_000,
        });
        workers.push(w);
        return w;
      } finally {
        await connection.close();
      }
    },
    async restartServer() {
      await server.kill();
      server = await startTemporalFullServer({ binaries, postgres: target, stateDir, ports: server.ports, tls: serverTls });
    },
    async restartPostgres() {
      const port = postgres.port;
      await postgres.stop();
      postgres = await startEmbeddedPostgres({ dataDir: pgDir, noFsync: true, port });
    },
    async stop() {
      for (const w of workers) await w.kill();
      await server.stop().catch(() => undefined);
      await postgres.stop().catch(() => undefined);
      await audit.drop();
      await production.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
