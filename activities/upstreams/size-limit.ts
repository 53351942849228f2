/**
 * The most one upstream message may hold, and how a message over it fails only the call it
 * answers. One connection to a server carries every session's calls, so a message over the limit
 * must not take the connection down with it.
 *
 * - stdio: the SDK's read buffer closes the transport (killing the server, failing every call in
 *   flight) when a line is longer than its limit. `BoundedLineReader` takes its place
 *   (`boundLines`): a longer line is dropped, keeping only its first and last few KiB, where the
 *   JSON-RPC `id` it answers is looked for (`answeredId`); that request gets an error response, and
 *   a line whose id cannot be told (or that is not a response) is dropped, its call timing out.
 * - Streamable HTTP: `cappedFetch` bounds a JSON response body, and each event of an SSE response
 *   stream; over the limit, the request the body answers gets the error response.
 *
 * The error response carries a tag of the connection's own (`tooLargeOf`), so a server cannot pass
 * its own error off as this one. Node-only.
 */
import type { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { deserializeMessage, ReadBuffer, STDIO_DEFAULT_MAX_BUFFER_SIZE } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** Most bytes of one upstream message (a stdio line, a JSON response body, an SSE event): the SDK's own stdio limit, 10 MiB. */
export const MAX_UPSTREAM_MESSAGE_BYTES: number = STDIO_DEFAULT_MAX_BUFFER_SIZE;
/** Bytes kept of each end of a line over the limit, to find the id it answers. */
const KEEP_BYTES = 4096;
/** Key of the tag in the error response's `data`. */
const MARK = 'gatehouse/message-too-large';

export type RequestId = string | number;

/** A message dropped for its size: its bytes (when read to its end), the limit, and the request it answered, if known. */
export interface DroppedMessage {
  readonly bytes?: number;
  readonly limitBytes: number;
  readonly id: RequestId | undefined;
}

export interface SizeLimitOptions {
  /** The connection's tag, put in the error responses it makes. */
  readonly tag: string;
  /** @default MAX_UPSTREAM_MESSAGE_BYTES */
  readonly limitBytes?: number;
  /** Told of each message dropped (for the worker's log). */
  readonly onDropped?: (dropped: DroppedMessage) => void;
}

/** The error response that fails request `id` in place of an answer over the limit. */
export function tooLargeResponse(id: RequestId, tag: string, limitBytes: number, bytes?: number): JSONRPCMessage {
  return {
    jsonrpc: '2.0',
    id,
    error: { code: ErrorCode.InternalError, message: `the answer is over ${limitBytes} bytes and was dropped`, data: { [MARK]: tag, limitBytes, ...(bytes !== undefined ? { bytes } : {}) } },
  };
}

/** What an error a request failed with says of a dropped answer, when it is one of this connection's (`tag`). */
export function tooLargeOf(err: unknown, tag: string): { readonly limitBytes: number; readonly bytes?: number } | undefined {
  const data = err !== null && typeof err === 'object' ? (err as { data?: unknown }).data : undefined;
  if (data === null || typeof data !== 'object') return undefined;
  const d = data as Record<string, unknown>;
  if (d[MARK] !== tag || typeof d.limitBytes !== 'number') return undefined;
  return { limitBytes: d.limitBytes, ...(typeof d.bytes === 'number' ? { bytes: d.bytes } : {}) };
}

/** `10 MiB (10485760 bytes)`. */
export function describeBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MiB (${bytes} bytes)` : `${bytes} bytes`;
}

// ---------------------------------------------------------------------------------------------
// stdio

type Line = { readonly line: Buffer } | { readonly head: Buffer; readonly tail: Buffer; readonly bytes: number };

/**
 * Newline-delimited JSON-RPC messages from a stdio server, each line at most `limitBytes`: what
 * the SDK's `ReadBuffer` does, except that a longer line is dropped instead of failing the stream.
 */
export class BoundedLineReader implements Pick<ReadBuffer, 'append' | 'readMessage' | 'clear'> {
  readonly #limit: number;
  /** The line being read, while within the limit. */
  #parts: Buffer[] = [];
  #size = 0;
  /** The line being read once over the limit: its first and last bytes only. */
  #over: { readonly head: Buffer; tail: Buffer } | undefined;
  /** Lines read whole, not yet taken. */
  #lines: Line[] = [];

  constructor(private readonly opts: SizeLimitOptions) {
    this.#limit = opts.limitBytes ?? MAX_UPSTREAM_MESSAGE_BYTES;
  }

  append(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const nl = chunk.indexOf(0x0a, at);
      this.#add(chunk.subarray(at, nl === -1 ? chunk.length : nl));
      if (nl === -1) return;
      this.#endLine();
      at = nl + 1;
    }
  }

  /** The next message, or null when no whole line is left. Throws on a line that is not a JSON-RPC message (as the SDK's does). */
  readMessage(): JSONRPCMessage | null {
    for (;;) {
      const next = this.#lines.shift();
      if (next === undefined) return null;
      if ('line' in next) return deserializeMessage(next.line.toString('utf8').replace(/\r$/, ''));
      const id = answeredId(next.head.toString('utf8'), next.tail.toString('utf8'));
      this.opts.onDropped?.({ bytes: next.bytes, limitBytes: this.#limit, id });
      if (id !== undefined) return tooLargeResponse(id, this.opts.tag, this.#limit, next.bytes);
    }
  }

  clear(): void {
    this.#parts = [];
    this.#size = 0;
    this.#over = undefined;
    this.#lines = [];
  }

  #add(piece: Buffer): void {
    if (piece.length === 0) return;
    this.#size += piece.length;
    if (this.#over) {
      this.#over.tail = lastBytes([this.#over.tail, piece]);
      return;
    }
    this.#parts.push(piece);
    if (this.#size <= this.#limit) return;
    // Over the limit: from here on only its ends are kept.
    this.#over = { head: Buffer.concat(this.#parts, Math.min(KEEP_BYTES, this.#size)), tail: lastBytes(this.#parts) };
    this.#parts = [];
  }

  #endLine(): void {
    if (this.#over) this.#lines.push({ head: this.#over.head, tail: this.#over.tail, bytes: this.#size });
    else if (this.#size > 0) this.#lines.push({ line: this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#size) });
    this.#parts = [];
    this.#size = 0;
    this.#over = undefined;
  }
}

/** The last `KEEP_BYTES` of the pieces, copied. */
function lastBytes(pieces: readonly Buffer[]): Buffer {
  const taken: Buffer[] = [];
  let n = 0;
  for (let i = pieces.length - 1; i >= 0 && n < KEEP_BYTES; i--) {
    taken.unshift(pieces[i]!);
    n += pieces[i]!.length;
  }
  const all = Buffer.concat(taken, n);
  return Buffer.from(all.subarray(Math.max(0, n - KEEP_BYTES)));
}

/**
 * Puts `reader` in place of the read buffer of an SDK stdio transport not yet started. The SDK
 * offers no option for it: its transport reads through a private `_readBuffer` (a `ReadBuffer`),
 * so this fails loudly, rather than leaving messages unbounded, if a later SDK has none.
 */
export function boundLines(transport: StdioClientTransport, reader: BoundedLineReader): void {
  const t = transport as unknown as { _readBuffer?: unknown };
  if (!(t._readBuffer instanceof ReadBuffer)) {
    throw new Error('the MCP SDK stdio transport has no read buffer to replace (`_readBuffer`): the upstream message size limit cannot be applied');
  }
  t._readBuffer = reader;
}

interface Members {
  /** Top-level keys seen, in order. */
  readonly keys: string[];
  /** The top-level `id` when it is a string or a number; `null` when it is there and neither. */
  id?: RequestId | null;
}

const WS = new Set([' ', '\t', '\n', '\r']);
const SCALAR = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)$/;
const SCALAR_AT = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

/**
 * The id a JSON-RPC response answers, from the first and last bytes of its line (the middle is
 * gone), or undefined. The SDK writes `id` last, others first: both ends are read, each only as
 * far as it is certain a member is of the top-level object. Only a response (a top-level
 * `result` or `error`, no `method`) gives an id: a server's own request has ids of its own.
 */
export function answeredId(head: string, tail: string): RequestId | undefined {
  const a = headMembers(head);
  const b = tailMembers(tail);
  const keys = new Set([...a.keys, ...b.keys]);
  if (keys.has('method') || !(keys.has('result') || keys.has('error'))) return undefined;
  if (a.id === null || b.id === null) return undefined;
  if (a.id !== undefined && b.id !== undefined && a.id !== b.id) return undefined;
  return a.id ?? b.id;
}

function skipWs(s: string, i: number): number {
  while (i < s.length && WS.has(s[i]!)) i++;
  return i;
}

function skipWsBack(s: string, i: number): number {
  while (i >= 0 && WS.has(s[i]!)) i--;
  return i;
}

function parsed(token: string): unknown {
  try {
    return JSON.parse(token) as unknown;
  } catch {
    return undefined;
  }
}

function idOf(token: string): RequestId | null {
  const v = parsed(token);
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) ? v : null;
}

/** The end (exclusive) of the string starting at `i`, or undefined when it is not whole in `s`. */
function stringEnd(s: string, i: number): number | undefined {
  if (s[i] !== '"') return undefined;
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] === '\\') j++;
    else if (s[j] === '"') return j + 1;
  }
  return undefined;
}

/** The end (exclusive) of the JSON value starting at `i`, or undefined when it is not whole in `s`. */
function valueEnd(s: string, i: number): number | undefined {
  const c = s[i];
  if (c === '"') return stringEnd(s, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const d = s[j];
      if (d === '"') {
        const end = stringEnd(s, j);
        if (end === undefined) return undefined;
        j = end - 1;
      } else if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return undefined;
  }
  SCALAR_AT.lastIndex = i;
  const m = SCALAR_AT.exec(s);
  return m ? i + m[0].length : undefined;
}

/** The top-level members at the start of a JSON object, read forwards as far as they are whole. */
function headMembers(s: string): Members {
  const out: Members = { keys: [] };
  let i = skipWs(s, 0);
  if (s[i] !== '{') return out;
  i = skipWs(s, i + 1);
  for (;;) {
    const keyEnd = stringEnd(s, i);
    if (keyEnd === undefined) return out;
    const key = parsed(s.slice(i, keyEnd));
    i = skipWs(s, keyEnd);
    if (typeof key !== 'string' || s[i] !== ':') return out;
    out.keys.push(key); // known a member even when its value runs past the head
    i = skipWs(s, i + 1);
    const end = valueEnd(s, i);
    if (end === undefined) return out;
    const after = skipWs(s, end);
    if (after >= s.length) return out; // a number could go on past the head
    if (key === 'id') out.id = idOf(s.slice(i, end));
    if (s[after] !== ',') return out;
    i = skipWs(s, after + 1);
  }
}

/**
 * Where the string whose closing quote is at `close` opens, or undefined when that cannot be told
 * from `s` (a quote is a delimiter when an even number of backslashes precede it, and the
 * character before that run must be in `s`).
 */
function stringStartBack(s: string, close: number): number | undefined {
  const delimiter = (q: number): boolean | undefined => {
    let k = q - 1;
    while (k >= 0 && s[k] === '\\') k--;
    if (k < 0) return undefined;
    return (q - 1 - k) % 2 === 0;
  };
  if (s[close] !== '"' || delimiter(close) !== true) return undefined;
  for (let p = s.lastIndexOf('"', close - 1); p >= 0; p = s.lastIndexOf('"', p - 1)) {
    const d = delimiter(p);
    if (d === undefined) return undefined;
    if (d) return p;
  }
  return undefined;
}

/**
 * The top-level members at the end of a JSON object, read backwards from its closing brace while
 * their values are strings, numbers or literals and each member is whole, delimiter included.
 */
function tailMembers(s: string): Members {
  const out: Members = { keys: [] };
  let i = skipWsBack(s, s.length - 1);
  if (s[i] !== '}') return out;
  i = skipWsBack(s, i - 1);
  for (;;) {
    let valueStart: number | undefined;
    if (s[i] === '"') valueStart = stringStartBack(s, i);
    else {
      let k = i;
      while (k >= 0 && /[0-9a-zA-Z.+-]/.test(s[k]!)) k--;
      valueStart = k + 1 <= i && SCALAR.test(s.slice(k + 1, i + 1)) ? k + 1 : undefined;
    }
    if (valueStart === undefined) return out;
    const colon = skipWsBack(s, valueStart - 1);
    if (colon < 0 || s[colon] !== ':') return out;
    const keyClose = skipWsBack(s, colon - 1);
    if (keyClose < 0) return out;
    const keyStart = stringStartBack(s, keyClose);
    if (keyStart === undefined) return out;
    const before = skipWsBack(s, keyStart - 1);
    if (before < 0 || (s[before] !== ',' && s[before] !== '{')) return out;
    const key = parsed(s.slice(keyStart, keyClose + 1));
    if (typeof key !== 'string') return out;
    out.keys.push(key);
    if (key === 'id') out.id = idOf(s.slice(valueStart, i + 1));
    if (s[before] === '{') return out;
    i = skipWsBack(s, before - 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Streamable HTTP

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
