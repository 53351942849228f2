/**
 * Red team: the ledger keys an agent can name. A proposal without an idempotency key of its own is
 * keyed by its update id (`<session>:update:<id>`); an agent may give a key of its own, and may
 * spell it `update:<id>` of a proposal it sends later, keyless, under that update id. The two then
 * share one ledger entry, and the agent gains nothing: the later call of the same tool is answered
 * from the entry and runs nothing; another tool under the key is refused as a key conflict and runs
 * nothing; another session's keys start with that session's id, out of reach.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { proposeUpdate, type ProposeResult } from '../../workflows/contract';
import { createHarness, type Harness } from '../workflows/harness';

let h: Harness;
before(async () => {
  h = await createHarness('redteam_ledger_keys');
});
after(async () => {
  await h?.close();
});

const WRITE_INTENT = 'write numbered rows to the staging config';

describe("an agent names the ledger key of a proposal it sends later", () => {
  it('the keyless proposal of the same tool runs nothing again; of another tool it is a key conflict', async () => {
    await h.run(async () => {
      const s = await h.gh.startSession({ agentId: 'key-bot', owner: 'eng-007', intent: WRITE_INTENT });
      const rows = async () => (await h.production.pool.query<{ n: number; idempotency_key: string }>('SELECT n, idempotency_key FROM test_writes WHERE idempotency_key LIKE $1 ORDER BY n', [`${s.sessionId}:%`])).rows;
      const keyless = (tool: string, args: Record<string, unknown>, updateId: string) =>
        s.workflow.executeUpdate(proposeUpdate, { args: [{ tool, args, reasoning: 'keyless' }], updateId }) as Promise<ProposeResult>;

      const later = randomUUID();
      const first = await s.propose({ tool: 'test.slowWrite', args: { n: 7 }, reasoning: 'row 7', idempotencyKey: `update:${later}` });
      assert.equal(first.status, 'executed');
      const same = await keyless('test.slowWrite', { n: 8 }, later);
      assert.deepEqual([same.status, same.result], ['executed', first.result], 'answered from the shared entry');
      assert.deepEqual(await rows(), [{ n: 7, idempotency_key: `${s.sessionId}:update:${later}` }], 'row 8 was never written');

      const other = randomUUID();
      assert.equal((await s.propose({ tool: 'volumes.list', args: {}, reasoning: 'look', idempotencyKey: `update:${other}` })).status, 'executed');
      const conflict = await keyless('test.slowWrite', { n: 9 }, other);
      assert.deepEqual([conflict.status, conflict.error?.type], ['failed', 'IdempotencyKeyConflict']);
      assert.deepEqual((await rows()).map((r) => r.n), [7], 'row 9 was never written');

      // The same key in another session is that session's own entry: its call runs.
      const b = await h.gh.startSession({ agentId: 'key-bot', owner: 'eng-007', intent: WRITE_INTENT });
      assert.equal((await b.propose({ tool: 'test.slowWrite', args: { n: 10 }, reasoning: 'row 10', idempotencyKey: `update:${later}` })).status, 'executed');
      const theirs = await h.production.pool.query('SELECT n FROM test_writes WHERE idempotency_key = $1', [`${b.sessionId}:update:${later}`]);
      assert.deepEqual(theirs.rows, [{ n: 10 }]);
      await Promise.all([s.end({}), b.end({})]);
    });
  });
});
