/**
 * Mapping between `events` / `sessions` rows and the audit shapes. Reading a row back gives the
 * normalized event that was hashed when it was written (see `chain.ts` `normalizeEvent`).
 */
import type { AuditEventInput, AuditEventKind, SessionRecord } from './types';
import type { ChainedEvent } from './chain';

/** The columns of `events` that record an event, with their types: one list for writers and readers. */
const EVENT_COLUMN_TYPES = [
  ['session_id', 'text'], ['seq', 'int4'], ['kind', 'text'], ['at', 'timestamptz'], ['proposal_seq', 'int4'],
  ['tool', 'text'], ['args', 'jsonb'], ['reasoning', 'text'], ['decision', 'jsonb'], ['approval_id', 'text'],
  ['approver', 'text'], ['latency_ms', 'float8'], ['token_cost', 'float8'], ['result_status', 'text'],
  ['error', 'text'], ['detail', 'jsonb'], ['prev_hash', 'text'], ['hash', 'text'],
] as const;

/** The columns of `events` the readers select and the writers insert, in this order. */
export const EVENT_COLUMNS = EVENT_COLUMN_TYPES.map(([name]) => name).join(', ');

/**
 * The rows of a JSON array of `EventRecord`s, for `INSERT INTO events (EVENT_COLUMNS) SELECT ...`:
 * PostgreSQL parses one JSON document per statement instead of a literal or a parameter per value.
 */
export function eventRecordset(json: string): string {
  return `json_to_recordset(${json}) AS v(${RECORD_TYPES})`;
}

const RECORD_TYPES = EVENT_COLUMN_TYPES.map(([name, type]) => `${name} ${type}`).join(', ');

/** An event as one element of an `eventRecordset` array: its columns by name, absent ones NULL. */
export interface EventRecord {
  readonly session_id: string;
  readonly seq: number;
  readonly kind: string;
  readonly at: string;
  readonly proposal_seq?: number;
  readonly tool?: string;
  readonly args?: unknown;
  readonly reasoning?: string;
  readonly decision?: unknown;
  readonly approval_id?: string;
  readonly approver?: string;
  readonly latency_ms?: number;
  readonly token_cost?: number;
  readonly result_status?: string;
  readonly error?: string;
  readonly detail?: unknown;
  readonly prev_hash: string;
  readonly hash: string;
}

/** A normalized event with its links, as the writers insert it (the inverse of `rowToChained`). */
export function eventRecord(e: AuditEventInput, prevHash: string, hash: string): EventRecord {
  return {
    session_id: e.sessionId, seq: e.seq, kind: e.kind, at: e.at, proposal_seq: e.proposalSeq, tool: e.tool,
    args: e.args, reasoning: e.reasoning, decision: e.decision, approval_id: e.approvalId, approver: e.approver,
    latency_ms: e.latencyMs, token_cost: e.tokenCost, result_status: e.resultStatus, error: e.error,
    detail: e.detail, prev_hash: prevHash, hash,
  };
}

/** An `events` row as node-pg returns it. */
export interface EventRow {
  readonly session_id: string;
  readonly seq: number;
  readonly kind: string;
  readonly at: Date;
  readonly proposal_seq: number | null;
  readonly tool: string | null;
  readonly args: Record<string, unknown> | null;
  readonly reasoning: string | null;
  readonly decision: unknown;
  readonly approval_id: string | null;
  readonly approver: string | null;
  readonly latency_ms: number | null;
  readonly token_cost: number | null;
  readonly result_status: string | null;
  readonly error: string | null;
  readonly detail: Record<string, unknown> | null;
  readonly prev_hash: string;
  readonly hash: string;
}

/** A row back to the event it recorded, with its links. */
export function rowToChained(row: EventRow): ChainedEvent {
  const event: Record<string, unknown> = {
    sessionId: row.session_id,
    seq: row.seq,
    kind: row.kind as AuditEventKind,
    at: row.at instanceof Date ? row.at.toISOString() : new Date(row.at).toISOString(),
  };
  const optional: [string, unknown][] = [
    ['proposalSeq', row.proposal_seq], ['tool', row.tool], ['args', row.args], ['reasoning', row.reasoning],
    ['decision', row.decision], ['approvalId', row.approval_id], ['approver', row.approver],
    ['latencyMs', row.latency_ms], ['tokenCost', row.token_cost], ['resultStatus', row.result_status],
    ['error', row.error], ['detail', row.detail],
  ];
  for (const [key, value] of optional) if (value !== null && value !== undefined) event[key] = value;
  return { event: event as unknown as AuditEventInput, prevHash: row.prev_hash, hash: row.hash };
}

/** A `sessions` row as node-pg returns it. */
export interface SessionRow {
  readonly session_id: string;
  readonly workflow_id: string;
  readonly agent_id: string;
  readonly owner: string;
  readonly intent: string;
  readonly parent_session_id: string | null;
  readonly policy_hash: string;
  readonly policy: unknown;
  readonly mode: string;
  readonly final_state: string | null;
  readonly flagged_for_review: boolean;
  readonly counters: Record<string, number>;
  readonly intent_score: number | null;
  readonly started_at: Date;
  readonly ended_at: Date | null;
}

/** A session as the readers (trace, sessions, export) see it: what it started with, and its summary. */
export interface SessionView extends Omit<SessionRecord, 'policy' | 'tools'> {
  readonly mode: string;
  readonly finalState?: string;
  readonly flaggedForReview: boolean;
  readonly counters: Readonly<Record<string, number>>;
  readonly intentScore?: number;
  readonly endedAt?: string;
}

export const SESSION_COLUMNS =
  'session_id, workflow_id, agent_id, owner, intent, parent_session_id, policy_hash, mode, final_state, ' +
  'flagged_for_review, counters, intent_score, started_at, ended_at';

export function rowToSession(row: Omit<SessionRow, 'policy'>): SessionView {
  return {
    sessionId: row.session_id,
    workflowId: row.workflow_id,
    agentId: row.agent_id,
    owner: row.owner,
    intent: row.intent,
    ...(row.parent_session_id !== null ? { parentSessionId: row.parent_session_id } : {}),
    policyHash: row.policy_hash,
    mode: row.mode,
    ...(row.final_state !== null ? { finalState: row.final_state } : {}),
    flaggedForReview: row.flagged_for_review,
    counters: row.counters ?? {},
    ...(row.intent_score !== null ? { intentScore: row.intent_score } : {}),
    startedAt: row.started_at.toISOString(),
    ...(row.ended_at !== null ? { endedAt: row.ended_at.toISOString() } : {}),
  };
}
