/**
 * The most one upstream message may hold, and how a message over it fails only the call it
 * answers. One connection to a server carries every session's calls, so a message over the limit
 * must not take the connection down with it.
 *
 * - stdio: the SDK's read buffer closes the transport (killing the server, failing every call in
 *   flight) when a line is longer than its limit. `BoundedLineReader` (`bounded-lines.ts`) takes its
 *   place (`boundLines`): a longer line is dropped, keeping only its first and last few KiB, where the
 *   JSON-RPC `id` it answers is looked for (`answeredId`, `answered-id.ts`); that request gets an error response, and
 *   a line whose id cannot be told (or that is not a response) is dropped, its call timing out.
 * - Streamable HTTP: `cappedFetch` (`capped-fetch.ts`) bounds a JSON response body, and each event of an SSE response
 *   stream; over the limit, the request the body answers gets the error response.
 *
 * The error response carries a tag of the connection's own (`tooLargeOf`), so a server cannot pass
 * its own error off as this one. Node-only.
 */
import { STDIO_DEFAULT_MAX_BUFFER_SIZE } from '@modelcontextprotocol/sdk/shared/stdio.js';
import { ErrorCode, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** Most bytes of one upstream message (a stdio line, a JSON response body, an SSE event): the SDK's own stdio limit, 10 MiB. */
export const MAX_UPSTREAM_MESSAGE_BYTES: number = STDIO_DEFAULT_MAX_BUFFER_SIZE;
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
