/**
 * JSON-RPC batches at `/mcp`. The SDK's transport accepts an array of up to 100 messages under any
 * protocol version, and each `tools/call` in it is a proposal: one HTTP request must not stand for
 * a hundred. Batching is part of MCP 2025-03-26 only (2024-11-05 had none, 2025-06-18 removed it),
 * and the SDK still negotiates 2025-03-26 (its default when a request names no version), so:
 * a batch is refused under any other version, and under 2025-03-26 it costs one rate token per
 * message, all or none (the gateway already charged the request's first). A batch of more messages
 * than the agent's burst could never be paid for (the bucket never holds more): it is refused (400,
 * naming the burst) before any of its messages is charged, not answered 429 with a `Retry-After`
 * that never comes true.
 */
import { DEFAULT_NEGOTIATED_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';

/** The one protocol version whose clients may send batches. */
export const BATCH_PROTOCOL_VERSION = '2025-03-26';
/** Most messages in one batch: the SDK transport's own bound, refused here before any is charged. */
export const MAX_BATCH_MESSAGES = 100;

/** A JSON-RPC error response for the whole request (`id: null`: no message of it was read). */
export interface BatchRefusal {
  readonly jsonrpc: '2.0';
  readonly error: { readonly code: number; readonly message: string; readonly data: { readonly rule: string; readonly protocolVersion: string; readonly messages: number; readonly burst?: number } };
  readonly id: null;
}

export type BatchCheck = { readonly ok: true; readonly messages: number } | { readonly ok: false; readonly refusal: BatchRefusal };

/**
 * How many messages a POST body carries, or why it is refused (HTTP 400). `protocolVersion` is the
 * request's `mcp-protocol-version` header; without one the SDK takes its default (2025-03-26).
 * `burst`: the most requests the agent's rate ever admits at once (the gateway's `burst`).
 */
export function checkBatch(body: unknown, protocolVersion: string | undefined, burst?: number): BatchCheck {
  if (!Array.isArray(body)) return { ok: true, messages: 1 };
  const version = protocolVersion ?? DEFAULT_NEGOTIATED_PROTOCOL_VERSION;
  const refuse = (rule: string, message: string, extra: { readonly burst?: number } = {}): BatchCheck => ({
    ok: false,
    refusal: { jsonrpc: '2.0', error: { code: -32600, message, data: { rule, protocolVersion: version, messages: body.length, ...extra } }, id: null },
  });
  if (version !== BATCH_PROTOCOL_VERSION) {
    return refuse('mcp.batch', `invalid request: JSON-RPC batches are not accepted under MCP protocol version \`${version.slice(0, 40)}\` (only ${BATCH_PROTOCOL_VERSION} has them): send one message per request`);
  }
  if (body.length === 0) return refuse('mcp.batch.empty', 'invalid request: the batch is empty');
  if (body.length > MAX_BATCH_MESSAGES) return refuse('mcp.batch.size', `invalid request: a batch holds at most ${MAX_BATCH_MESSAGES} messages, got ${body.length}`);
  if (burst !== undefined && body.length > burst) {
    return refuse('mcp.batch.burst', `invalid request: a batch of ${body.length} messages is more than the burst of ${burst} requests this gateway admits from an agent at once, so it could never be admitted: send at most ${burst} messages a batch`, { burst });
  }
  return { ok: true, messages: body.length };
}
