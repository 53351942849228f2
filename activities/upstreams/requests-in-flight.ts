/**
 * The requests one transport to an upstream server has sent and the server has not answered, each
 * with the call it was made for (a call's idempotency key) or none: an estimate, a listing, a
 * subscription, the handshake. Over stdio a log message names no request, and the server sends a
 * request's messages before its answer, so a message can be told a call's only while that call's
 * request is the one request in flight: any other request (keyed or not) could have sent it.
 *
 * A request the client cancelled (its call timed out or was aborted) is answered by no server that
 * follows the protocol, yet its handler may still be running and logging: it stays counted for
 * `cancelledGraceMs` after the cancellation, or until the server answers it after all. `countRequests`
 * keeps the count for a transport. Node-free, no I/O.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { RequestId } from './size-limit';

export class RequestsInFlight {
  /** Requests in flight, each with its call (undefined: not a call's). */
  readonly #calls = new Map<RequestId, string | undefined>();
  /** Cancelled requests still counted, by when they were cancelled. */
  readonly #cancelledAt = new Map<RequestId, number>();

  constructor(private readonly cancelledGraceMs: number) {}

  /** How many requests are counted (those cancelled within the grace included). */
  count(now: number): number {
    this.#expire(now);
    return this.#calls.size;
  }

  /** Notes a message the client sends: a request is counted under `call`; a cancellation starts its grace. */
  sent(message: JSONRPCMessage, call: string | undefined, now: number): void {
    // Also here: over HTTP nothing else asks for the count, and cancelled requests must not pile up.
    this.#expire(now);
    const m = message as { id?: unknown; method?: unknown; params?: { requestId?: unknown } };
    if (typeof m.method !== 'string') return;
    if (isRequestId(m.id)) this.#calls.set(m.id, call);
    else if (m.method === 'notifications/cancelled' && isRequestId(m.params?.requestId) && this.#calls.has(m.params.requestId)) this.#cancelledAt.set(m.params.requestId, now);
  }

  /** A request whose sending failed never reached the server. */
  unsent(message: JSONRPCMessage): void {
    const m = message as { id?: unknown; method?: unknown };
    if (typeof m.method === 'string' && isRequestId(m.id)) this.#forget(m.id);
  }

  /** Notes a message the server sends: an answer (result or error) ends its request. */
  received(message: JSONRPCMessage): void {
    const m = message as { id?: unknown; method?: unknown };
    if (m.method === undefined && isRequestId(m.id)) this.#forget(m.id);
  }

  /** The call whose request is the only one in flight; undefined when none is, when several are, or when the one is no call's. */
  soleCall(now: number): string | undefined {
    if (this.count(now) !== 1) return undefined;
    return this.#calls.values().next().value;
  }

  #forget(id: RequestId): void {
    this.#calls.delete(id);
    this.#cancelledAt.delete(id);
  }

  #expire(now: number): void {
    for (const [id, at] of this.#cancelledAt) if (now - at > this.cancelledGraceMs) this.#forget(id);
  }
}

/**
 * Counts in `inFlight` the requests sent on `transport` (each under `callOf()`, the call whose
 * context sends it) and the answers received; `onMessage` then sees each message the server
 * sends. The SDK's `Protocol.connect` keeps a transport's `onmessage` set before it and calls it
 * first, before its own handling of the message.
 */
export function countRequests(transport: Transport, inFlight: RequestsInFlight, callOf: () => string | undefined, onMessage: (message: JSONRPCMessage) => void): void {
  const send = transport.send.bind(transport);
  transport.send = async (message, options) => {
    inFlight.sent(message, callOf(), Date.now());
    try {
      await send(message, options);
    } catch (err) {
      inFlight.unsent(message);
      throw err;
    }
  };
  transport.onmessage = (message: JSONRPCMessage) => {
    inFlight.received(message);
    onMessage(message);
  };
}

function isRequestId(v: unknown): v is RequestId {
  return typeof v === 'number' || typeof v === 'string';
}
