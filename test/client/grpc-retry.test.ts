/**
 * The gRPC retry of every Gatehouse connection to Temporal (`client/grpc-retry.ts`), against the
 * real server. An interceptor inside it answers the first attempt of one call UNAVAILABLE, as a
 * server restarting does; the SDK's own retry then threw from a gRPC callback (an uncaught
 * exception: the gateway, console or Slack app process ended) when the next attempt failed for
 * good, and its wait outlived a closed connection ("Channel has been shut down" from a timer).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Connection, defaultGrpcRetryOptions, isGrpcServiceError, type GrpcRetryOptions } from '@temporalio/client';
import { InterceptingCall, Metadata, status, type Interceptor } from '@grpc/grpc-js';
import { NEVER_STARTED_CALL, retryInterceptor } from '../../client/grpc-retry';
import { getTestServers } from '../support/servers';


/** Answers the first `DescribeNamespace` attempt UNAVAILABLE without sending it (`answered` once it did); counts attempts. */
function unavailableOnce(): { interceptor: Interceptor; attempts: () => number; answered: Promise<void> } {
  let attempts = 0;
  let onAnswered!: () => void;
  const answered = new Promise<void>((resolve) => (onAnswered = resolve));
  const interceptor: Interceptor = (options, nextCall) => {
    if (!String(options.method_definition.path).endsWith('/DescribeNamespace')) return new InterceptingCall(nextCall(options));
    attempts++;
    if (attempts > 1) return new InterceptingCall(nextCall(options));
    return new InterceptingCall(NEVER_STARTED_CALL, {
      start: (_metadata, listener) =>
        setImmediate(() => {
          listener.onReceiveStatus({ code: status.UNAVAILABLE, details: 'the server is restarting', metadata: new Metadata() });
          onAnswered();
        }),
    });
  };
  return { interceptor, attempts: () => attempts, answered };
}

/** The SDK's backoff, with a fixed wait the test can act within. */
const retryAfter = (ms: number): GrpcRetryOptions => ({ ...defaultGrpcRetryOptions(), delayFunction: () => ms });

let address: string;
let namespace: string;
const uncaught: Error[] = [];
const record = (err: Error) => void uncaught.push(err);
before(async () => {
  ({ temporalAddress: address, namespace } = await getTestServers());
  process.on('uncaughtException', record);
});
after(() => {
  process.off('uncaughtException', record);
});

async function grpcCode(call: Promise<unknown>): Promise<{ code: number; details: string }> {
  const err = await call.then(() => assert.fail('expected the call to fail'), (e: unknown) => e);
  assert.ok(isGrpcServiceError(err), `a gRPC error, not ${String(err)}`);
  return { code: err.code, details: err.details };
}

describe('the retry of a Gatehouse connection to Temporal', () => {
  it('sends the call again after UNAVAILABLE, and the next answer reaches the caller: a namespace found, then one not found as NOT_FOUND', async () => {
    const flaky = unavailableOnce();
    const connection = await Connection.connect({ address, interceptors: [retryInterceptor(retryAfter(10)), flaky.interceptor] });
    try {
      const found = await connection.workflowService.describeNamespace({ namespace });
      assert.equal(found.namespaceInfo?.name, namespace);
      assert.equal(flaky.attempts(), 2);
      const missing = unavailableOnce();
      const again = await Connection.connect({ address, interceptors: [retryInterceptor(retryAfter(10)), missing.interceptor] });
      try {
        assert.equal((await grpcCode(again.workflowService.describeNamespace({ namespace: 'no-such-namespace' }))).code, status.NOT_FOUND);
        assert.equal(missing.attempts(), 2);
      } finally {
        await again.close();
      }
    } finally {
      await connection.close();
    }
    assert.deepEqual(uncaught.map((e) => e.message), []);
  });

  it('a call cancelled while it waits to be sent again ends CANCELLED at once, and is not sent again', async () => {
    const flaky = unavailableOnce();
    const connection = await Connection.connect({ address, interceptors: [retryInterceptor(retryAfter(60_000)), flaky.interceptor] });
    try {
      const abort = new AbortController();
      const call = connection.withAbortSignal(abort.signal, () => connection.workflowService.describeNamespace({ namespace }));
      await flaky.answered;
      abort.abort();
      assert.equal((await grpcCode(call)).code, status.CANCELLED);
      assert.equal(flaky.attempts(), 1);
    } finally {
      await connection.close();
    }
    assert.deepEqual(uncaught.map((e) => e.message), []);
  });

  it('a connection closed while a call waits to be sent again ends the call UNAVAILABLE, with nothing thrown from the timer', async () => {
    const flaky = unavailableOnce();
    const connection = await Connection.connect({ address, interceptors: [retryInterceptor(retryAfter(500)), flaky.interceptor] });
    const call = connection.workflowService.describeNamespace({ namespace });
    await flaky.answered;
    await connection.close();
    assert.deepEqual(await grpcCode(call), { code: status.UNAVAILABLE, details: 'Channel has been shut down' });
    assert.deepEqual(uncaught.map((e) => e.message), []);
  });
});
