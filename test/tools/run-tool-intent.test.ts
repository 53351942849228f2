/**
 * `runTool` as the worker wires it (`createActivities`): when the workflow sends the intent, an
 * executed call comes back scored; a scorer that fails (an embeddings endpoint answering 500)
 * never turns a call that ran into a failed one — the result just has no score, and the workflow
 * asks `scoreIntent` itself. Real PostgreSQL; the endpoint is a local HTTP server.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createActivities } from '../../activities';
import type { CallerCheck } from '../../activities/caller';
import { testTrust } from '../support/trust';
import { seedSampleProduction, createSampleCatalog } from '../../activities/tools/sample';
import { parsePolicy } from '../../policies';
import { createTestDatabase, type TestDatabase } from '../support/servers';

let audit: TestDatabase;
let production: TestDatabase;
let failing: Server;
let failingUrl: string;

before(async () => {
  audit = await createTestDatabase('tools_intent_audit');
  production = await createTestDatabase('tools_intent_prod');
  await seedSampleProduction(production.pool);
  failing = createServer((_req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"down"}');
  });
  await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
  failingUrl = `http://127.0.0.1:${(failing.address() as AddressInfo).port}/v1`;
});
after(async () => {
  await new Promise((resolve) => failing?.close(resolve));
  await audit?.drop();
  await production?.drop();
});

/** Activities asked of the caller check. Called directly (no Temporal): a double that lets every caller through. */
const checked: string[] = [];
const anyCaller: CallerCheck = {
  verify: async (activity) => {
    checked.push(activity);
  },
};

function activities(intent: Parameters<typeof createActivities>[0]['intent']) {
  const policy = parsePolicy({ name: 'test' });
  if (!policy.success) throw new Error('policy');
  return createActivities({ auditPool: audit.pool, catalog: createSampleCatalog({ productionPool: production.pool }), policy: policy.data, keyset: testTrust().keyset, intent, caller: anyCaller });
}

function call(sessionId: string) {
  const at = '2026-11-22T10:00:00.000Z';
  return {
    sessionId, proposalSeq: 1, tool: 'volumes.list', args: {}, idempotencyKey: `${sessionId}:p1`, before: [], afterSeq: 1, at,
    intent: { intent: 'list volumes and where they are mounted', actions: [{ tool: 'volumes.list', args: {}, at }], now: at },
  };
}

describe('runTool scores the intent of the call it ran', () => {
  it('returns the score of an executed call', async () => {
    checked.length = 0;
    const r = await activities({ kind: 'local' }).runTool(call('intent-local'));
    assert.deepEqual(checked, ['runTool']);
    assert.equal(r.status, 'executed');
    assert.equal(typeof r.intentScore, 'number');
    assert.ok(r.intentScore! > 0.5 && r.intentScore! <= 1, `aligned call scored ${r.intentScore}`);
  });

  it('a failing scorer leaves the call executed, without a score', async () => {
    const r = await activities({ kind: 'openai', baseUrl: failingUrl, timeoutMs: 2000 }).runTool(call('intent-down'));
    assert.equal(r.status, 'executed');
    assert.equal(r.intentScore, undefined);
    const rows = await production.pool.query("SELECT status FROM tool_executions WHERE idempotency_key = 'intent-down:p1'");
    assert.deepEqual(rows.rows, [{ status: 'executed' }]);
  });
});
