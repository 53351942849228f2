/**
 * `SessionHandle.propose` when the update RPC times out before the outcome (an overloaded server),
 * or the server aborts the update because the workflow task carrying it failed (an overloaded
 * worker's, temporalio/sdk-rust#888): it asks again for the same update id, so the proposal is
 * neither lost nor sent as a second one. The Temporal client is replaced at its surface
 * (`workflow.getHandle`) to fail on demand, with errors shaped as the server's (gRPC status and
 * its details); the real server dedupes by update id (see the gateway's Idempotency-Key test).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import { google, temporal } from '@temporalio/proto';
import { SessionHandle } from '../../client/session';
import { isWorkflowNotReady, sendUpdate } from '../../client/update-retry';
import type { ProposeResult } from '../../workflows/contract';

const EXECUTED = { status: 'executed', sequence: 1 } as unknown as ProposeResult;

function clientFailing(times: number, calls: { updateId: string }[], failure: () => Error): Client {
  const handle = {
    async executeUpdate(_update: unknown, options: { updateId: string }) {
      calls.push({ updateId: options.updateId });
      if (calls.length <= times) throw failure();
      return EXECUTED;
    },
  };
  return { workflow: { getHandle: () => handle } } as unknown as Client;
}

const clientTimingOut = (times: number, calls: { updateId: string }[]) => clientFailing(times, calls, () => new WorkflowUpdateRPCTimeoutOrCancelledError('context deadline exceeded'));

/** The client's error for a gRPC status `code` whose details are one message of type `detailType`. */
function serverError(code: number, message: string, detailType: string): ServiceError {
  const status = google.rpc.Status.encode({ code, message, details: [{ type_url: `type.googleapis.com/${detailType}`, value: new Uint8Array() }] }).finish();
  const metadata = { get: (key: string) => (key === 'grpc-status-details-bin' ? [Buffer.from(status)] : []) };
  const cause = Object.assign(new Error(`${code} ${message}`), { code, details: message, metadata });
  return new ServiceError('Workflow Update failed', { cause });
}

const FAILED_PRECONDITION = 9;
const taskFailed = () => serverError(FAILED_PRECONDITION, 'Unable to perform workflow execution update due to unexpected workflow task failure.', 'temporal.api.errordetails.v1.WorkflowNotReadyFailure');

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

test('an update aborted by a failed workflow task is sent again with the same update id', async () => {
  assert.ok(temporal.api.errordetails.v1.WorkflowNotReadyFailure, 'the detail type the server sends exists');
  const calls: { updateId: string }[] = [];
  const session = new SessionHandle(clientFailing(2, calls, taskFailed), 'retry-session');
  assert.deepEqual(await session.propose({ tool: 'volumes.list', args: {}, reasoning: 'list' }), EXECUTED);
  assert.equal(calls.length, 3);
  assert.equal(new Set(calls.map((c) => c.updateId)).size, 1);
});

test('stops sending when the workflow stays not ready past the wait, with the server error', async () => {
  let sends = 0;
  const send = async () => {
    sends += 1;
    throw taskFailed();
  };
  await assert.rejects(sendUpdate(send, { retryRpcTimeouts: true, notReadyWaitMs: 250 }), ServiceError);
  // Sent at once and after 100 ms; the next wait (200 ms) would end past the 250.
  assert.equal(sends, 2);
});

test('only a not-ready answer is sent again: another failed precondition, or another error, is not', async () => {
  assert.equal(isWorkflowNotReady(taskFailed()), true);
  const failingState = serverError(FAILED_PRECONDITION, 'Unable to perform workflow execution update due to Workflow Task in failed state.', 'temporal.api.errordetails.v1.WorkflowNotReadyFailure');
  assert.equal(isWorkflowNotReady(failingState), true);
  const paused = serverError(FAILED_PRECONDITION, 'Workflow is paused. Cannot update the workflow.', 'temporal.api.errordetails.v1.FailedPreconditionFailure');
  assert.equal(isWorkflowNotReady(paused), false);
  assert.equal(isWorkflowNotReady(serverError(14, 'unavailable', 'temporal.api.errordetails.v1.WorkflowNotReadyFailure')), false);
  assert.equal(isWorkflowNotReady(new Error('Unable to perform workflow execution update due to unexpected workflow task failure.')), false);
  const calls: { updateId: string }[] = [];
  await assert.rejects(new SessionHandle(clientFailing(1, calls, () => paused), 'retry-session').propose({ tool: 'volumes.list', args: {}, reasoning: 'list' }), ServiceError);
  assert.equal(calls.length, 1);
});

test('state() reads again when a query timed out before a worker took it, at most three times', async () => {
  const VIEW = { policyHash: 'h', ended: false, halted: false, pendingApprovals: [] };
  const details = 'query timed out before a worker could process it';
  const queryTimeout = () => new ServiceError('Failed to query Workflow', { cause: Object.assign(new Error(`4 DEADLINE_EXCEEDED: ${details}`), { code: 4, details, metadata: { get: () => [] } }) });
  const clientQuerying = (failures: number, asked: { n: number }) =>
    ({ workflow: { getHandle: () => ({ query: async () => (++asked.n <= failures ? Promise.reject(queryTimeout()) : VIEW) }) } }) as unknown as Client;
  const asked = { n: 0 };
  assert.deepEqual(await new SessionHandle(clientQuerying(2, asked), 'retry-session').state(), VIEW);
  assert.equal(asked.n, 3);
  const gaveUp = { n: 0 };
  await assert.rejects(new SessionHandle(clientQuerying(Infinity, gaveUp), 'retry-session').state(), ServiceError);
  assert.equal(gaveUp.n, 3);
});
