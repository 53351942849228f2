/**
 * What the workflow tests share: the real servers, a fresh audit and production database per
 * file, one workflow bundle per process, an in-process worker on a unique task queue, a client.
 */
import { randomBytes } from 'node:crypto';
import { DefaultLogger, NativeConnection, Runtime, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { seedSampleProduction } from '../../activities/tools/sample';
import { Gatehouse } from '../../client';
import { parsePolicy, type PolicyDocument } from '../../policies';
import { bundleGatehouseWorkflows } from '../../worker/bundle';
import { createGatehouseWorker, type GatehouseWorkerOptions } from '../../worker/create-worker';
import { createTestDatabase, getTestServers, type TestDatabase } from '../support/servers';
import { sharedBundle, quietBundleLogger } from '../support/shared-bundle';
import { createCatalog, TEST_POLICY, TEST_WRITES_DDL } from './fixtures/catalog';
import { testTrust } from '../support/trust';
import { signDecision } from '../../client/trust/sign';
import { approvalSignal } from '../../workflows/contract';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
let runtimeInstalled = false;

/** Worker logs at WARN: the suite's output stays readable. */
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed by another module of this process.
  }
}

/**
 * The session workflow bundle (today's workflows, no interceptors), built once per process and,
 * under `npm test`, once per run for all files (webpack takes seconds; see support/shared-bundle.ts).
 */
export function sessionBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= sharedBundle('session', () => bundleGatehouseWorkflows({ logger: quietBundleLogger() }));
  return bundle;
}

export function testPolicy(overrides: Record<string, unknown> = {}): PolicyDocument {
  const parsed = parsePolicy({ ...TEST_POLICY, ...overrides });
  if (!parsed.success) throw new Error(`test policy: ${JSON.stringify(parsed.issues)}`);
  return parsed.data;
}

export interface Harness {
  readonly taskQueue: string;
  readonly address: string;
  readonly namespace: string;
  readonly audit: TestDatabase;
  readonly production: TestDatabase;
  readonly gh: Gatehouse;
  readonly connection: NativeConnection;
  /**
   * Creates a worker on the harness's queue (the test runs it with `runUntil`). The shared worker of
   * `run` stops first: two workers of different options must not take each other's tasks.
   */
  worker(extra?: Partial<GatehouseWorkerOptions>): Promise<Worker>;
  /**
   * Runs `fn` while the file's shared worker runs (the default policy and the harness's named
   * `policies`; started on first use, stopped by `close` or a test's own `worker()`), and fails with
   * it if the worker fails. For tests that need no worker of their own: starting one costs about
   * 1.3 s of CPU (its workflow threads load the SDK and the bundle).
   */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Sends a vote signed with a test approver's key straight to the workflow (no client-side
   * checks): what a forger or a late clicker would send. `callDigest` defaults to the pending one.
   */
  vote(sessionId: string, approvalId: string, approver: string, approve: boolean, options?: { reason?: string; callDigest?: string }): Promise<void>;
  /** Audit events of a session, in seq order. */
  events(sessionId: string): Promise<{ seq: number; kind: string; tool: string | null; proposal_seq: number | null; detail: Record<string, unknown> | null; args: unknown; approver: string | null }[]>;
  /** Rows the test catalog's staging writes made for a session (what actually ran). */
  writesOf(sessionId: string): Promise<number>;
  close(): Promise<void>;
}

/** Options of `createHarness`. */
export interface HarnessOptions {
  /** Named policies of the shared worker (`run`), beside the default test policy. */
  readonly policies?: GatehouseWorkerOptions['policies'];
}

export async function createHarness(area: string, options: HarnessOptions = {}): Promise<Harness> {
  quietRuntime();
  const servers = await getTestServers();
  const audit = await createTestDatabase(`wf_audit_${area}`);
  const production = await createTestDatabase(`wf_prod_${area}`);
  await seedSampleProduction(production.pool);
  await production.pool.query(TEST_WRITES_DDL);
  const taskQueue = `test-workflows-${area}-${randomBytes(4).toString('hex')}`;
  const connection = await NativeConnection.connect({ address: servers.temporalAddress });
  // Trusted test code: the operator key issues each session's agent credential.
  const gh = await Gatehouse.connect({ address: servers.temporalAddress, namespace: servers.namespace, taskQueue, issuer: testTrust().operator });
  const workflowBundle = await sessionBundle();
  const catalog = createCatalog({ productionPool: production.pool });
  const worker = (extra: Partial<GatehouseWorkerOptions> = {}) =>
    createGatehouseWorker({
      connection,
      namespace: servers.namespace,
      taskQueue,
      auditPool: audit.pool,
      catalog,
      policy: testPolicy(),
      keyset: testTrust().keyset,
      workflowBundle,
      ...extra,
    });
  let shared: Promise<{ worker: Worker; running: Promise<void> }> | undefined;
  const stopShared = async () => {
    if (!shared) return;
    const stopping = shared;
    shared = undefined;
    const { worker: w, running } = await stopping;
    w.shutdown();
    await running;
  };
  return {
    taskQueue,
    address: servers.temporalAddress,
    namespace: servers.namespace,
    audit,
    production,
    gh,
    connection,
    async worker(extra) {
      await stopShared();
      return worker(extra);
    },
    async run(fn) {
      // A grace period lets activities in flight at its stop finish (before `close` drops the databases).
      shared ??= worker({ ...(options.policies ? { policies: options.policies } : {}), workerOptions: { shutdownGraceTime: '10s' } })
        .then((w) => ({ worker: w, running: w.run() }));
      const { running } = await shared;
      const stopped = running.then(() => {
        throw new Error('the shared worker stopped while a test ran');
      });
      stopped.catch(() => undefined);
      return Promise.race([fn(), stopped]);
    },
    async vote(sessionId, approvalId, approver, approve, options = {}) {
      const handle = gh.session(sessionId);
      const view = await handle.state();
      const pending = view.pendingApprovals.find((p) => p.approvalId === approvalId);
      const callDigest = options.callDigest ?? pending?.callDigest ?? '0'.repeat(64);
      const envelope = signDecision(testTrust().approver(approver), {
        kind: 'vote',
        workflowId: view.workflowId,
        firstRunId: view.firstRunId,
        approvalId,
        callDigest,
        ...(pending ? { tool: pending.tool } : {}),
        verdict: approve ? 'approve' : 'deny',
        ...(options.reason ? { reason: options.reason } : {}),
      });
      await handle.workflow.signal(approvalSignal, envelope);
    },
    async events(sessionId) {
      const r = await audit.pool.query('SELECT seq, kind, tool, proposal_seq, detail, args, approver FROM events WHERE session_id = $1 ORDER BY seq', [sessionId]);
      return r.rows.map((row) => ({ ...row, seq: Number(row.seq), proposal_seq: row.proposal_seq === null ? null : Number(row.proposal_seq) }));
    },
    async writesOf(sessionId) {
      const { rows } = await production.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM test_writes WHERE idempotency_key LIKE $1', [`${sessionId}:%`]);
      return rows[0]!.n;
    },
    async close() {
      await stopShared();
      await gh.close();
      await connection.close();
      await audit.drop();
      await production.drop();
    },
  };
}
