/**
 * Red team: a secret inside a list of objects reaches the audit trail. A tool declares
 * `items.*.secret` sensitive, the documented spelling (`activities/tools/define.ts`,
 * docs/tutorials/your-own-tools.md); redaction stepped into the array without using up the `*`, so
 * it matched the `*` against each element's keys and found no `secret` under them: the arguments
 * were stored, shown to approvers and posted to Slack in clear, and a server echoing the secret in
 * its result or its error text was not caught either (no secret was collected to hunt for).
 *
 * Here the calls go through the real activities and the real AuditStore: `prepareCall` (what the
 * workflow records and shows), `runTool` with the redacted and with raw write-ahead events, a result
 * and an error that echo the secret. No row of the trail holds it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { z } from 'zod';
import { createToolActivities } from '../../activities/tools/activities';
import { createCatalog } from '../../activities/tools/catalog';
import { defineTool } from '../../activities/tools/define';
import { ToolError } from '../../activities/tools/errors';
import { REDACTED } from '../../activities/tools/redact';
import { AuditStore } from '../../audit/store';
import type { AuditEventInput } from '../../audit/types';
import { createTestDatabase, type TestDatabase } from '../support/servers';

const SECRET = 'hunter2-long';
const OTHER = 'correct-horse-battery';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('redteam_array_secrets');
});
after(async () => {
  await db?.drop();
});

const vaultStore = defineTool({
  name: 'vault.store',
  description: 'Store named secrets',
  effect: 'write',
  environment: 'test',
  resource: 'vault',
  input: z.object({ items: z.array(z.object({ name: z.string(), secret: z.string() })), fail: z.boolean() }).strict(),
  output: z.object({ stored: z.array(z.string()) }),
  sensitive: ['items.*.secret'],
  timeoutMs: 5000,
  retry: { maxAttempts: 1 },
  idempotent: true,
  async handler(args) {
    // A careless server: its answer and its error both echo what it was given.
    if (args.fail) throw new ToolError('VaultRefused', `cannot store ${args.items.map((i) => `${i.name}=${i.secret}`).join(', ')}`);
    return { stored: args.items.map((i) => `${i.name}=${i.secret}`) };
  },
});

async function trail(sessionId: string): Promise<{ seq: number; kind: string; whole: string }[]> {
  const r = await db.pool.query<{ seq: number; kind: string; whole: string }>('SELECT seq, kind, e::text AS whole FROM events e WHERE session_id = $1 ORDER BY seq', [sessionId]);
  return r.rows;
}

for (const fail of [false, true]) {
  test(`a tool declaring \`items.*.secret\` records no secret in the trail (${fail ? 'an error' : 'a result'} echoing it)`, async () => {
    const tools = createToolActivities({ catalog: createCatalog([vaultStore], { database: db.pool }), audit: new AuditStore(db.pool) });
    const sessionId = `array-${fail ? 'error' : 'result'}`;
    const args = { items: [{ name: 'db', secret: SECRET }, { name: 'api', secret: OTHER }], fail };

    const prepared = await tools.prepareCall({ tool: 'vault.store', args });
    assert.equal(prepared.valid, true);
    // What the workflow records, and what approvers (console, Slack, CLI) are shown.
    assert.deepEqual(prepared.redactedArgs, { items: [{ name: 'db', secret: '[REDACTED: 12 characters]' }, { name: 'api', secret: '[REDACTED: 21 characters]' }], fail });

    const at = '2026-11-01T10:00:01.000Z';
    const base = { sessionId, at, proposalSeq: 1, tool: 'vault.store' } as const;
    const events: AuditEventInput[] = [
      { ...base, seq: 1, kind: 'proposed', args: prepared.redactedArgs, reasoning: 'store the credentials' },
      // Raw arguments by mistake: runTool redacts them again before they are appended.
      { ...base, seq: 2, kind: 'approved', args, approver: 'eng-002' },
    ];
    const r = await tools.runTool({ sessionId, proposalSeq: 1, tool: 'vault.store', args, idempotencyKey: `${sessionId}:1`, before: events, afterSeq: 3, at });
    assert.equal(r.status, fail ? 'failed' : 'executed', JSON.stringify(r.error));
    if (fail) assert.equal(r.error?.message, `cannot store db=${REDACTED}, api=${REDACTED}`);

    const rows = await trail(sessionId);
    assert.deepEqual(rows.map((x) => [x.seq, x.kind]), [[1, 'proposed'], [2, 'approved'], [3, fail ? 'failed' : 'executed']]);
    for (const row of rows) {
      for (const secret of [SECRET, OTHER]) assert.equal(row.whole.includes(secret), false, `event ${row.seq} (${row.kind}) holds \`${secret}\`: ${row.whole}`);
    }
    // The handler did get the secrets: only what is recorded is redacted.
    if (!fail) assert.equal(JSON.stringify(r.result).includes(REDACTED), false, 'the workflow gets the real result');
  });
}
