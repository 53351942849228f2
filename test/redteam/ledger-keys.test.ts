/**
 * Red team: the ledger keys an agent can name. A proposal without an idempotency key of its own is
 * keyed by its update id (`<session>:update:<id>`); an agent may give a key of its own, and may
 * spell it `update:<id>` of a proposal it sends later, keyless, under that update id. The two then
 * share one ledger entry, and the agent gains nothing: the later call of the same tool with other
 * arguments is refused as a key conflict (answered from the entry, the trail would say its arguments
 * ran) and runs nothing; another tool under the key is refused the same way; another session's keys start with that session's id, out of reach — which holds only
 * while no session id has a `:` (`a` + key `b:k` would spell session `a:b`'s key `k`): such a start
 * is refused, and a ledger row of another session under the same key is a conflict, not an answer.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SessionStartRefusedError } from '../../client';
import { startSessionSchema } from '../../gateway/schemas';
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
  it('the keyless proposal of the same tool with other arguments, or of another tool, is a key conflict and runs nothing', async () => {
    await h.run(async () => {
      const s = await h.gh.startSession({ agentId: 'key-bot', owner: 'eng-007', intent: WRITE_INTENT });
      const rows = async () => (await h.production.pool.query<{ n: number; idempotency_key: string }>('SELECT n, idempotency_key FROM test_writes WHERE idempotency_key LIKE $1 ORDER BY n', [`${s.sessionId}:%`])).rows;
      const keyless = (tool: string, args: Record<string, unknown>, updateId: string) =>
        s.workflow.executeUpdate(proposeUpdate, { args: [{ tool, args, reasoning: 'keyless' }], updateId }) as Promise<ProposeResult>;

      const later = randomUUID();
      const first = await s.propose({ tool: 'test.slowWrite', args: { n: 7 }, reasoning: 'row 7', idempotencyKey: `update:${later}` });
      assert.equal(first.status, 'executed');
      // Other arguments under the key: refused, not answered with row 7's result (the trail would say row 8 was written).
      const changed = await keyless('test.slowWrite', { n: 8 }, later);
      assert.deepEqual([changed.status, changed.error?.type, changed.error?.message], ['failed', 'IdempotencyKeyConflict', 'idempotency key already used for a call with other arguments']);
      assert.deepEqual(await rows(), [{ n: 7, idempotency_key: `${s.sessionId}:update:${later}` }], 'row 8 was never written');
      const executed = (await h.events(s.sessionId)).filter((e) => e.kind === 'executed' && e.tool === 'test.slowWrite');
      assert.deepEqual(executed.map((e) => e.proposal_seq), [first.sequence], 'the trail says only the first call ran');

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

describe("an agent spells another session's ledger keys with a `:` in its session id", () => {
  it('a start with a `:` in its id is refused; a row of another session under the key is a conflict, never its answer', async () => {
    await h.run(async () => {
      const owner = `team-${randomUUID().slice(0, 8)}`;
      const viaGateway = startSessionSchema.safeParse({ intent: WRITE_INTENT, sessionId: `${owner}:report` });
      assert.match(JSON.stringify(viaGateway.error?.issues), /letters, digits or `\._-`/, 'the gateway refuses the id up front');
      // Nor an id a URL path resolves away (`/sessions/..` is `/`): the console could not open or halt it.
      for (const dots of ['.', '..']) assert.equal(startSessionSchema.safeParse({ intent: WRITE_INTENT, sessionId: dots }).success, false, dots);
      await assert.rejects(
        h.gh.startSession({ sessionId: `${owner}:report`, agentId: 'key-bot', owner: 'eng-007', intent: WRITE_INTENT }),
        (err: unknown) => err instanceof SessionStartRefusedError && err.rule === 'start.session-id',
      );
      // A session `<owner>:report` from before the refusal wrote `<owner>:report:k1`; session `<owner>` spells the same key.
      const s = await h.gh.startSession({ sessionId: owner, agentId: 'key-bot', owner: 'eng-007', intent: WRITE_INTENT });
      await h.production.pool.query(
        `INSERT INTO tool_executions (idempotency_key, tool, session_id, proposal_seq, status, result, error, latency_ms)
         VALUES ($1, 'volumes.list', $2, 1, 'executed', $3::jsonb, NULL, 1)`,
        [`${owner}:report:k1`, `${owner}:report`, JSON.stringify({ volumes: ['the secret volume of session report'] })],
      );
      const read = await s.propose({ tool: 'volumes.list', args: {}, reasoning: 'look', idempotencyKey: 'report:k1' });
      assert.deepEqual([read.status, read.error?.type], ['failed', 'IdempotencyKeyConflict']);
      assert.equal(JSON.stringify(read).includes('secret volume'), false, 'the other session\'s result never reaches it');
      await s.end({});
    });
  });
});
