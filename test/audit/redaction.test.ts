/**
 * Sensitive fields never reach the audit table in clear: events written through the catalog's
 * path (`prepareCall` → redacted arguments in the write-ahead events → `runTool`, which appends
 * them and the outcome through the real AuditStore) carry its marker, `[REDACTED: N characters]`
 * (the length only), where a tool marks a field sensitive — even when a caller hands runTool raw
 * arguments by mistake, and however often a marker is redacted again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditStore } from '../../audit/store';
import { verifyDatabase } from '../../audit/verify';
import type { AuditEventInput } from '../../audit/types';
import { createSampleCatalog, createToolActivities, seedSampleProduction } from '../../activities/tools';
import { createTestDatabase, type TestDatabase } from '../support/servers';
import { productionPolicy } from './fixtures';

const SECRET = 'hunter2-do-not-log';
/** What people are shown of it: its length, however often it is redacted again. */
const SHOWN = '[REDACTED: 18 characters]';
let audit: TestDatabase;
let production: TestDatabase;

before(async () => {
  [audit, production] = await Promise.all([createTestDatabase('audit_redact'), createTestDatabase('audit_redact_prod')]);
  await seedSampleProduction(production.pool);
});
after(async () => {
  await Promise.all([audit?.drop(), production?.drop()]);
});

/** A session row for `sessionId` in the real store, and the tool activities appending to it. */
async function startRedactedSession(sessionId: string) {
  const store = new AuditStore(audit.pool);
  const policy = productionPolicy();
  await store.startSession({
    sessionId, workflowId: `session-${sessionId}`, agentId: 'ops-bot', owner: 'eng-007', intent: 'set a variable',
    policyHash: policy.hash, policy: policy.document, startedAt: '2026-11-01T10:00:00Z',
  });
  return createToolActivities({ catalog: createSampleCatalog({ productionPool: production.pool }), audit: store });
}

test('a sensitive argument is stored redacted in every event of its proposal', async () => {
  const sessionId = 'r-1';
  const tools = await startRedactedSession(sessionId);
  const args = { service: 'api', key: 'DB_PASSWORD', value: SECRET };
  const prepared = await tools.prepareCall({ tool: 'env.modifyProduction', args });
  assert.equal(prepared.valid, true);
  assert.equal(prepared.redactedArgs.value, SHOWN);

  const at = '2026-11-01T10:00:01.000Z';
  const base = { sessionId, at, proposalSeq: 1, tool: 'env.modifyProduction' } as const;
  const beforeEvents: AuditEventInput[] = [
    { ...base, seq: 1, kind: 'proposed', args: prepared.redactedArgs, reasoning: 'rotate the password' },
    // A careless caller passing the raw arguments: runTool redacts them again before appending.
    { ...base, seq: 2, kind: 'approved', args, approver: 'eng-002' },
  ];
  const result = await tools.runTool({ sessionId, proposalSeq: 1, tool: 'env.modifyProduction', args, idempotencyKey: 'r-1:1', before: beforeEvents, afterSeq: 3, at });
  assert.equal(result.status, 'executed', JSON.stringify(result.error));

  // The tool really ran with the secret…
  const env = await production.pool.query('SELECT value FROM service_env WHERE service = $1 AND key = $2', ['api', 'DB_PASSWORD']);
  assert.equal(env.rows[0]?.value, SECRET);
  // …and no column of any audit row holds it.
  const rows = await audit.pool.query<{ seq: number; kind: string; value: string | null; whole: string }>(
    'SELECT seq, kind, args->>\'value\' AS value, e::text AS whole FROM events e WHERE session_id = $1 ORDER BY seq', [sessionId],
  );
  assert.deepEqual(rows.rows.map((r) => [r.seq, r.kind, r.value]), [[1, 'proposed', SHOWN], [2, 'approved', SHOWN], [3, 'executed', SHOWN]]);
  for (const r of rows.rows) assert.equal(r.whole.includes(SECRET), false, `seq ${r.seq} leaks the secret`);
  const anywhere = await audit.pool.query(`SELECT count(*)::int AS n FROM events e WHERE e::text LIKE '%' || $1 || '%'`, [SECRET]);
  assert.equal(anywhere.rows[0].n, 0);
  // The chain holds over the redacted rows (the trail is a fragment without its start: only the chain is the point).
  assert.deepEqual((await verifyDatabase(audit.pool, { sessionId })).broken, []);
});

test('checked by runTool first (no prepareCall): the raw arguments are redacted in every event and in what comes back', async () => {
  const sessionId = 'r-2';
  const tools = await startRedactedSession(sessionId);
  const at = '2026-11-01T10:00:01.000Z';
  const base = { sessionId, at, proposalSeq: 1, tool: 'env.modifyProduction' } as const;
  const args = { service: 'api', key: 'DB_PASSWORD', value: SECRET };
  // The workflow hands the arguments as proposed: it has not seen them redacted.
  const before: AuditEventInput[] = [{ ...base, seq: 1, kind: 'proposed', args, reasoning: 'rotate' }, { ...base, seq: 2, kind: 'decided' }];

  const refused = await tools.runTool({ sessionId, proposalSeq: 1, tool: 'env.modifyProduction', args: { ...args, extra: 1 }, idempotencyKey: 'r-2:1', before, afterSeq: 3, at, checkFirst: true });
  assert.equal(refused.status, 'invalid');
  assert.equal(refused.redactedArgs?.value, SHOWN);
  assert.equal(JSON.stringify(refused).includes(SECRET), false);
  assert.equal((await audit.pool.query('SELECT count(*)::int AS n FROM events WHERE session_id = $1', [sessionId])).rows[0].n, 0, 'nothing written for refused arguments');

  const ran = await tools.runTool({ sessionId, proposalSeq: 1, tool: 'env.modifyProduction', args, idempotencyKey: 'r-2:1', before, afterSeq: 3, at, checkFirst: true });
  assert.equal(ran.status, 'executed', JSON.stringify(ran.error));
  assert.equal(ran.redactedArgs?.value, SHOWN);
  const rows = await audit.pool.query<{ whole: string }>('SELECT e::text AS whole FROM events e WHERE session_id = $1 ORDER BY seq', [sessionId]);
  assert.equal(rows.rows.length, 3);
  for (const r of rows.rows) assert.equal(r.whole.includes(SECRET), false);
});
