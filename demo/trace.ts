/**
 * The end of every demo: `gatehouse trace` of each session it started, from the audit trail
 * (the same `audit/trace.ts` the command renders), as text for people and JSON for `--json`.
 */
import type { Pool } from 'pg';
import { loadTrace, renderTraceText, traceToJson, type TraceJson } from '../audit/trace';

export interface SessionTrace {
  readonly sessionId: string;
  readonly text: string;
  readonly json: TraceJson;
}

export async function sessionTraces(pool: Pool, sessionIds: readonly string[]): Promise<SessionTrace[]> {
  const out: SessionTrace[] = [];
  for (const sessionId of sessionIds) {
    const trace = await loadTrace(pool, sessionId);
    out.push({ sessionId, text: renderTraceText(trace), json: traceToJson(trace) });
  }
  return out;
}
