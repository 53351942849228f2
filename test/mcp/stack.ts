/**
 * What the MCP tests share: a worker (the workflow harness), the real gateway (`createGateway`,
 * which registers `/mcp`) listening on 127.0.0.1:0, an agent credential, and the checks that a
 * held call never ran (production rows, ledger, audit trail).
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Worker } from '@temporalio/worker';
import { previousMonth } from '../../activities/tools/sample';
import { RevocationStore } from '../../audit/credentials';
import type { GatewayLimits } from '../../gateway/limits';
import { createGateway } from '../../gateway/server';
import { createCatalog } from '../workflows/fixtures/catalog';
import { createHarness, type Harness } from '../workflows/harness';
import { testTrust } from '../support/trust';

export const AGENT = { agentId: 'billing-bot', owner: 'eng-007' } as const;
/** The incident's delete: last month's test records (held for approval by the policy). */
export const DELETE_ARGS = { period: previousMonth(new Date()), testOnly: true };

export interface McpStack {
  readonly h: Harness;
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  readonly mcpUrl: URL;
  readonly token: string;
  /** The gateway itself (its admissions count open sessions). */
  readonly app: FastifyInstance;
  /** Billing rows in production right now. */
  billingRows(): Promise<number>;
  /** Executions of a tool in the production ledger. */
  ledgerRows(tool: string): Promise<number>;
  close(): Promise<void>;
}

export async function startMcpStack(area: string, limits: Partial<GatewayLimits> = {}): Promise<McpStack> {
  // Short hold wait: a held call answers after 2 s instead of 20 (the same code path).
  process.env.GATEHOUSE_MCP_HOLD_SECONDS = '2';
  const h = await createHarness(area);
  const worker: Worker = await h.worker();
  const running = worker.run();
  const { app, baseUrl } = await listenGateway(h, limits);
  const token = await testTrust().credential(AGENT.agentId, AGENT.owner);
  return {
    h,
    baseUrl,
    mcpUrl: new URL(`${baseUrl}/mcp`),
    token,
    app,
    async billingRows() {
      const r = await h.production.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM billing_records');
      return r.rows[0]!.n;
    },
    async ledgerRows(tool) {
      const r = await h.production.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tool_executions WHERE tool = $1', [tool]);
      return r.rows[0]!.n;
    },
    async close() {
      await app.close();
      worker.shutdown();
      await running;
      await h.close();
    },
  };
}

/** A gateway of the harness's worker listening on 127.0.0.1 (the stack's own, or a second one a test closes). */
export async function listenGateway(h: Harness, limits: Partial<GatewayLimits> = {}): Promise<{ app: FastifyInstance; baseUrl: string }> {
  const app: FastifyInstance = createGateway({
    client: h.gh,
    keyset: testTrust().keyset,
    revocations: new RevocationStore(h.audit.pool),
    catalog: createCatalog({ productionPool: h.production.pool }),
    limits,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, baseUrl: `http://127.0.0.1:${port}` };
}

/** Audit event kinds of a session's proposals of one tool. */
export async function eventKinds(h: Harness, sessionId: string, tool: string): Promise<string[]> {
  return (await h.events(sessionId)).filter((e) => e.tool === tool).map((e) => e.kind);
}
