/**
 * `SessionHandle.propose` when the update RPC times out before the outcome (an overloaded server):
 * it asks again for the same update id, so the proposal is neither lost nor sent as a second one.
 * The Temporal client is replaced at its surface (`workflow.getHandle`) to make the RPC time out on
 * demand; the real server dedupes by update id (see the gateway's Idempotency-Key test).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import { SessionHandle } from '../../client/session';
import type { ProposeResult } from '../../workflows/contract';

const EXECUTED = { status: 'executed', sequence: 1 } as unknown as ProposeResult;

function clientTimingOut(times: number, calls: { updateId: string }[]): Client {
  const handle = {
    async executeUpdate(_update: unknown, options: { updateId: string }) {
      calls.push({ updateId: options.updateId });
      if (calls.length <= times) throw new WorkflowUpdateRPCTimeoutOrCancelledError('context deadline exceeded');
      return EXECUTED;
    },
  };
  return { workflow: { getHandle: () => handle } } as unknown as Client;
}

test('a timed-out update RPC is asked again with the same update id until the outcome comes', async () => {
  const calls: { updateId: string }[] = [];
  const session = new SessionHandle(clientTimingOut(3, calls), 'retry-session');
  assert.deepEqual(await session.propose({ tool: 'volumes.list', args: {}, reasoning: 'list' }), EXECUTED);
  assert.equal(calls.length, 4);
  assert.equal(new Set(calls.map((c) => c.updateId)).size, 1);

  const next: { updateId: string }[] = [];
  await new SessionHandle(clientTimingOut(0, next), 'retry-session').propose({ tool: 'volumes.list', args: {}, reasoning: 'list' });
  assert.notEqual(next[0]!.updateId, calls[0]!.updateId, 'each proposal is an update of its own');
});

test('gives up after 20 timed-out attempts with the timeout error', async () => {
  const calls: { updateId: string }[] = [];
  const session = new SessionHandle(clientTimingOut(Infinity, calls), 'retry-session');
  await assert.rejects(session.propose({ tool: 'volumes.list', args: {}, reasoning: 'list' }), WorkflowUpdateRPCTimeoutOrCancelledError);
  assert.equal(calls.length, 20);
});
