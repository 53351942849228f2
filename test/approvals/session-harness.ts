/**
 * The approvals harness around the REAL session workflow (`createGatehouseWorker`, the test
 * catalog plus any extra tools) and a Gatehouse client whose operator key issues each session's
 * agent credential: what the end-to-end approval tests and the red-team tests of what a person
 * reads share.
 */
import type { AnyToolDefinition } from '../../activities/tools/define';
import { Gatehouse } from '../../client';
import { parsePolicy, type PolicyDocument } from '../../policies';
import type { Keyset } from '../../policies/trust';
import { createGatehouseWorker } from '../../worker/create-worker';
import { getTestServers } from '../support/servers';
import { createTestCatalog, ensureTestToolTables } from '../support/test-tools';
import { testTrust } from '../support/trust';
import { sessionBundle } from '../workflows/harness';
import { HARNESS_KEYSET, startHarness, type Harness } from './helpers';

/** A policy document for a test, or the parse issues thrown. */
export function parsed(doc: Record<string, unknown>): PolicyDocument {
  const r = parsePolicy(doc);
  if (!r.success) throw new Error(`test policy invalid: ${JSON.stringify(r.issues)}`);
  return r.data;
}

export interface SessionHarnessOptions {
  readonly prefix: string;
  readonly policy: PolicyDocument;
  /** Named policies a session may ask for (`policyRef`). */
  readonly policies?: Readonly<Record<string, PolicyDocument>>;
  /** Tools besides the test catalog's. */
  readonly extra?: readonly AnyToolDefinition[];
  /** The approvals app's keyset, when it differs from the worker's (`HARNESS_KEYSET`). */
  readonly appKeyset?: Keyset;
}

export async function startSessionHarness(opts: SessionHarnessOptions): Promise<{ h: Harness; gh: Gatehouse; close(): Promise<void> }> {
  const h = await startHarness({
    prefix: opts.prefix,
    ...(opts.appKeyset ? { appKeyset: opts.appKeyset } : {}),
    createWorker: async (ctx) => {
      await ensureTestToolTables(ctx.db.pool);
      return createGatehouseWorker({
        connection: ctx.connection,
        namespace: ctx.namespace,
        taskQueue: ctx.taskQueue,
        auditPool: ctx.db.pool,
        catalog: createTestCatalog({ database: ctx.db.pool, ...(opts.extra ? { extra: opts.extra } : {}) }),
        policy: opts.policy,
        ...(opts.policies ? { policies: opts.policies } : {}),
        keyset: HARNESS_KEYSET,
        slack: ctx.slackClient,
        workflowBundle: await sessionBundle(),
      });
    },
  });
  const servers = await getTestServers();
  const gh = await Gatehouse.connect({ address: servers.temporalAddress, namespace: servers.namespace, taskQueue: h.taskQueue, issuer: testTrust().operator });
  return {
    h,
    gh,
    async close() {
      await gh.close().catch(() => undefined);
      await h.close();
    },
  };
}
