/**
 * What a tool call's outcome becomes outside the ledger: the workflow's copy of the result (sized
 * past a bound: Temporal refuses big payloads) and the audit event (secrets out by path and by
 * value, big results only sized).
 */
import type { AuditEventInput } from '../../audit/types';
import type { AnyToolDefinition } from './define';
import { redactPaths, secretsAt, withoutSecrets } from './redact';
import type { RunToolInput, ToolOutcome } from './run-tool-types';

/** Results bigger than this are kept in the ledger but only sized in the audit event. */
const MAX_RESULT_IN_EVENT_BYTES = 8 * 1024;
/**
 * Results bigger than this are kept in the ledger but handed to the workflow as a sized preview:
 * Temporal refuses a payload over 2 MiB, and the call, which took effect, would then be retried or
 * recorded again as failed (the session ending on the conflict).
 */
export const MAX_RESULT_RETURNED_BYTES = 256 * 1024;
const RESULT_PREVIEW_CHARS = 16 * 1024;

/**
 * What the workflow gets of a result: itself, or past the bound its size and the start of its JSON.
 * `atMost` bounds its JSON's length when the caller knows one (the text it was parsed from): a
 * result clearly under the bound is not serialised again on the hot path.
 */
export function returned(result: unknown, atMost?: number): unknown {
  // A UTF-16 unit is at most 3 bytes of UTF-8.
  if (atMost !== undefined && atMost * 3 <= MAX_RESULT_RETURNED_BYTES) return result;
  const json = JSON.stringify(result ?? null);
  const bytes = Buffer.byteLength(json, 'utf8');
  return bytes <= MAX_RESULT_RETURNED_BYTES ? result : { truncated: true, bytes, preview: json.slice(0, RESULT_PREVIEW_CHARS) };
}

export function outcomeEvent(input: RunToolInput, def: AnyToolDefinition | undefined, redactedArgs: Record<string, unknown>, outcome: ToolOutcome): AuditEventInput {
  const detail: Record<string, unknown> = { idempotencyKey: input.idempotencyKey };
  if (outcome.status === 'executed') {
    // By path, then by value: a result can echo a secret argument elsewhere (a diff of an edit).
    const shown = def ? withoutSecrets(redactPaths(outcome.result, def.sensitive), secretsAt(input.args, def.sensitive)) : outcome.result;
    // A result handed back as a preview (`returned`) is sized by what the tool gave; a result that
    // only claims to be one (a server's own `truncated`, `bytes`) is sized by what it is.
    const preview = shown as { truncated?: unknown; bytes?: unknown } | null;
    const measured = Buffer.byteLength(JSON.stringify(shown ?? null), 'utf8');
    const bytes = preview !== null && typeof preview === 'object' && Object.hasOwn(preview, 'truncated') && preview.truncated === true && typeof preview.bytes === 'number' ? Math.max(preview.bytes, measured) : measured;
    detail.result = bytes <= MAX_RESULT_IN_EVENT_BYTES ? shown : { truncated: true, bytes };
  } else if (outcome.error) {
    detail.errorType = outcome.error.type;
    detail.retryable = outcome.error.retryable;
  }
  return {
    sessionId: input.sessionId,
    seq: input.afterSeq,
    kind: outcome.status,
    at: typeof input.at === 'number' ? new Date(input.at).toISOString() : input.at,
    proposalSeq: input.proposalSeq,
    tool: input.tool,
    args: redactedArgs,
    latencyMs: outcome.latencyMs,
    resultStatus: outcome.status,
    ...(outcome.error ? { error: outcome.error.message } : {}),
    detail,
  };
}
