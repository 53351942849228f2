/**
 * Streamable HTTP's side of the upstream message size limit (`size-limit.ts`): a fetch that bounds
 * what a server's answer may bring into memory.
 */
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { parsed } from './answered-id';
import { MAX_UPSTREAM_MESSAGE_BYTES, tooLargeResponse, type RequestId, type SizeLimitOptions } from './size-limit';

/** Statuses whose response has no body (a `Response` cannot be made with one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * A fetch for the SDK's Streamable HTTP transport that bounds what a server's answer may bring
 * into memory: a JSON body answering a request is read up to the limit, past which the request
 * gets the error response instead; each event of an SSE stream likewise (on a request's own stream
 * it fails that request and ends the stream; on the server's own stream, the event is dropped);
 * any other body fails its reading past the limit.
 */
export function cappedFetch(opts: SizeLimitOptions & { readonly fetch?: FetchLike }): FetchLike {
  const limit = opts.limitBytes ?? MAX_UPSTREAM_MESSAGE_BYTES;
  return async (url, init) => {
    const response = await (opts.fetch ?? fetch)(url, init);
    if (response.body === null || NULL_BODY.has(response.status)) return response;
    const id = requestIdOf(init?.body);
    const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type === 'text/event-stream') return withBody(response, response.body.pipeThrough(cappedEvents(limit, id, opts)));
    if (id !== undefined && response.ok && type === 'application/json') {
      const body = await readAtMost(response.body, limit);
      if (body !== undefined) return withBody(response, body);
      opts.onDropped?.({ limitBytes: limit, id });
      return withBody(response, JSON.stringify(tooLargeResponse(id, opts.tag, limit)));
    }
    return withBody(response, response.body.pipeThrough(cappedBytes(limit)));
  };
}

/** The id of the JSON-RPC request a POST body sends, if it sends one. */
function requestIdOf(body: unknown): RequestId | undefined {
  if (typeof body !== 'string') return undefined;
  const msg = parsed(body);
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return undefined;
  const { id, method } = msg as { id?: unknown; method?: unknown };
  return typeof method === 'string' && (typeof id === 'string' || typeof id === 'number') ? id : undefined;
}

function withBody(response: Response, body: ConstructorParameters<typeof Response>[0]): Response {
  const headers = new Headers(response.headers);
  // The body given is decoded, and its length may differ.
  headers.delete('content-encoding');
  headers.delete('content-length');
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

/** The whole body, or undefined (the rest unread, cancelled) when it is over `limit` bytes. */
async function readAtMost(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array | undefined> {
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(parts, size);
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    parts.push(value);
  }
}

function cappedBytes(limit: number): TransformStream<Uint8Array, Uint8Array> {
  let size = 0;
  return new TransformStream({
    transform(chunk, controller) {
      size += chunk.byteLength;
      if (size > limit) controller.error(new Error(`the response body is over ${limit} bytes`));
      else controller.enqueue(chunk);
    },
  });
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * An SSE stream passed on event by event (an event ends at a blank line), each held until it is
 * whole and dropped once over `limit` bytes. On a request's own stream (`id` known), the first
 * event dropped is replaced by the error response for that request, and the stream ends there.
 */
function cappedEvents(limit: number, id: RequestId | undefined, opts: SizeLimitOptions): TransformStream<Uint8Array, Uint8Array> {
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  let dropping = false;
  let ended = false;
  let atLineStart = true;
  let afterCR = false;
  /** A dropped event ended with a CR: the LF of its CRLF goes with it. */
  let dropLF = false;
  const add = (piece: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>): void => {
    if (piece.byteLength === 0) return;
    heldBytes += piece.byteLength;
    if (dropping) return;
    held.push(piece);
    if (heldBytes <= limit) return;
    held = [];
    dropping = true;
    opts.onDropped?.({ limitBytes: limit, id });
    if (id === undefined) return;
    controller.enqueue(new TextEncoder().encode(`event: message\ndata: ${JSON.stringify(tooLargeResponse(id, opts.tag, limit))}\n\n`));
    controller.terminate();
    ended = true;
  };
  const endEvent = (controller: TransformStreamDefaultController<Uint8Array>, on: number): void => {
    dropLF = dropping && on === CR;
    if (!dropping) for (const piece of held) controller.enqueue(piece);
    held = [];
    heldBytes = 0;
    dropping = false;
  };
  return new TransformStream({
    transform(chunk, controller) {
      let from = 0;
      for (let k = 0; k < chunk.length && !ended; k++) {
        const b = chunk[k];
        if (b === LF && afterCR) {
          afterCR = false; // the LF of a CRLF: the CR ended the line
          if (dropLF && from === k) from = k + 1;
          dropLF = false;
          continue;
        }
        dropLF = false;
        if (b !== LF && b !== CR) {
          afterCR = false;
          atLineStart = false;
          continue;
        }
        afterCR = b === CR;
        if (!atLineStart) {
          atLineStart = true;
          continue;
        }
        // A blank line: the event ends with this byte.
        add(chunk.subarray(from, k + 1), controller);
        if (ended) return;
        endEvent(controller, b!);
        from = k + 1;
      }
      if (!ended) add(chunk.subarray(from), controller);
    },
    flush(controller) {
      if (!ended) endEvent(controller, 0);
    },
  });
}
