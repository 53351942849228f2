/**
 * The Temporal client's gRPC retry, for every connection Gatehouse opens: the SDK's backoff policy
 * (`defaultGrpcRetryOptions`), with an interceptor of our own around it. The SDK's interceptor
 * (`makeGrpcRetryInterceptor`) threw from a gRPC callback, an uncaught exception that ends the
 * process, whenever a retried call then failed for good (`savedMessageNext is not a function`: it
 * forwards a response message that an error never had), and its wait between attempts survived a
 * cancelled call and a closed connection ("Channel has been shut down" from its timer). A
 * transient UNAVAILABLE or RESOURCE_EXHAUSTED followed by NOT_FOUND or a passed deadline is
 * ordinary; an agent can cause the second one (an eleventh update in flight on its own session).
 *
 * Here each attempt is a call of its own, and only the last one's answer reaches the caller; a
 * cancel stops the attempt running or the wait; a connection closed during the wait ends the
 * call as UNAVAILABLE.
 */
import { InterceptingCall, Metadata, status, type Interceptor, type InterceptingListener, type StatusObject } from '@grpc/grpc-js';
import { Connection, defaultGrpcRetryOptions, type BackoffOptions, type ConnectionOptions, type GrpcRetryOptions } from '@temporalio/client';

/** A call as gRPC hands it to an interceptor (the package does not export the interface's name). */
export type Call = ConstructorParameters<typeof InterceptingCall>[0];

/** A call that is never started: what an interceptor that answers by itself stands in front of. */
export const NEVER_STARTED_CALL: Call = {
  cancelWithStatus: () => undefined,
  getPeer: () => '',
  start: () => undefined,
  sendMessageWithContext: () => undefined,
  sendMessage: () => undefined,
  startRead: () => undefined,
  halfClose: () => undefined,
  getAuthContext: () => null,
};

function statusOf(code: status, details: string): StatusObject {
  return { code, details, metadata: new Metadata() };
}

/** A gRPC interceptor that sends a unary call again while `retry` says so, answering with the last attempt. */
export function retryInterceptor(retry: GrpcRetryOptions): Interceptor {
  return (options, nextCall) => {
    let metadata = new Metadata();
    let listener: InterceptingListener | undefined;
    let request: unknown;
    let running: Call | undefined;
    let wait: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (answer: { metadata?: Metadata; message?: { value: unknown } }, final: StatusObject) => {
      if (done) return;
      done = true;
      if (answer.metadata) listener?.onReceiveMetadata(answer.metadata);
      if (answer.message) listener?.onReceiveMessage(answer.message.value);
      listener?.onReceiveStatus(final);
    };
    const attempt = (n: number) => {
      let call: Call;
      try {
        call = nextCall(options);
      } catch (err) {
        // The connection was closed while the call waited for this attempt.
        finish({}, statusOf(status.UNAVAILABLE, err instanceof Error ? err.message : String(err)));
        return;
      }
      running = call;
      const answer: { metadata?: Metadata; message?: { value: unknown } } = {};
      call.start(metadata.clone(), {
        onReceiveMetadata: (m: Metadata) => void (answer.metadata = m),
        onReceiveMessage: (value: unknown) => void (answer.message = { value }),
        onReceiveStatus: (s: StatusObject) => {
          running = undefined;
          if (done) return;
          if (s.code !== status.OK && retry.retryableDecider(n, s)) {
            wait = setTimeout(() => {
              wait = undefined;
              if (!done) attempt(n + 1);
            }, retry.delayFunction(n, s));
            return;
          }
          finish(answer, s);
        },
      });
      call.sendMessage(request);
      call.halfClose();
    };
    // Every attempt is a call of its own: the call this one would wrap is never started.
    return new InterceptingCall(NEVER_STARTED_CALL, {
      start: (m, l) => {
        metadata = m;
        listener = l;
      },
      sendMessage: (message) => void (request = message),
      halfClose: () => attempt(1),
      cancel: () => {
        if (wait) clearTimeout(wait);
        wait = undefined;
        const call = running;
        running = undefined;
        call?.cancelWithStatus(status.CANCELLED, 'Cancelled on client');
        finish({}, statusOf(status.CANCELLED, 'Cancelled on client'));
      },
    });
  };
}

/** The interceptors of a Gatehouse connection to Temporal: the SDK's backoff, our retry. */
export function retryingInterceptors(backoff: Partial<BackoffOptions> = {}): Interceptor[] {
  return [retryInterceptor(defaultGrpcRetryOptions(backoff))];
}

/** A connection to Temporal with Gatehouse's retry (options that name their own `interceptors` keep them). */
export function connectTemporal(options: ConnectionOptions): Promise<Connection> {
  return Connection.connect({ interceptors: retryingInterceptors(), ...options });
}
