/**
 * A proposal's outcome stays readable by its id after the session continued as a new run: the
 * gateway looks in the runs before the current one. Proposed again under the same id after a new
 * run, it is decided and counted again, but the call itself — keyed in the tool ledger by that id —
 * does not run a second time: the answer is its first result.
 * The real gateway, worker (a low history bound) and Temporal, through the TypeScript agent client.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Gatehouse, NotFoundError } from '../../packages/client/src/index';
import { startFixture, type GatewayFixture } from '../gateway/client';
import { testTrust } from '../support/trust';

let f: GatewayFixture;
before(async () => {
  f = await startFixture('propose_after_new_run', {}, { sessionHistoryLimit: 60 });
});
after(async () => {
  await f?.close();
});

it('after the session continued as new, waitFor finds a proposal by its id, and one proposed again under its id runs once', async () => {
  const gh = await Gatehouse.connect({ url: f.gateway.url, token: await testTrust().credential('rerun-bot', 'eng-007') });
  try {
    const session = await gh.startSession({ intent: 'write a staging row and list volumes' });
    const workflow = f.h.gh.client.workflow.getHandle(`session-${session.sessionId}`);
    const write = { tool: 'test.slowWrite', args: { n: 1 }, reasoning: 'one staging row' };
    const first = await session.propose(write, { proposalId: 'write-1' });
    assert.equal(first.status, 'executed');
    const firstRun = (await workflow.describe()).runId;
    for (let i = 0; i < 14 && (await workflow.describe()).runId === firstRun; i++) {
      await session.propose({ tool: 'volumes.list', args: {}, reasoning: 'look' }, { proposalId: `read-${i}` });
    }
    assert.notEqual((await workflow.describe()).runId, firstRun, 'the session continued as a new run');
    // Read by its id, the outcome is found in the run that had it.
    assert.deepEqual(await session.waitFor('write-1', { wait: 0 }), first);
    await assert.rejects(session.waitFor('never-sent', { wait: 0 }), NotFoundError);

    const again = await session.propose(write, { proposalId: 'write-1' });
    assert.equal(again.status, 'executed');
    assert.deepEqual(again.result, first.result);
    assert.ok(again.sequence > first.sequence, 'decided again, under a new number');
    assert.equal(await f.h.writesOf(session.sessionId), 1);
  } finally {
    gh.close();
  }
});
