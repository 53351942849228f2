/**
 * What the tool activities take and give (`activities.ts`): the shapes the workflow sees through
 * `activities/types.ts`, and the slice of the audit store `runTool` writes to.
 */
import type { AuditEventInput } from '../../audit/types';
import type { EstimateRequest } from '../../policies/upstream';
import type { ToolIssue } from './errors';

/** The slice of the audit store runTool needs (the real one is `audit/store.ts` AuditStore). */
export interface AuditSink {
  append(events: readonly AuditEventInput[]): Promise<unknown>;
}

export interface PrepareCallInput {
  readonly tool: string;
  readonly args: unknown;
  /** For an upstream MCP tool whose policy names an estimator: the read call that counts its blast radius. */
  readonly estimate?: EstimateRequest;
  /** False: check and redact only, estimate nothing (a call its policy denies anyway). @default true */
  readonly measure?: boolean;
}

export interface PrepareCallResult {
  readonly valid: boolean;
  readonly issues?: readonly ToolIssue[];
  /** Arguments safe to log (sensitive paths redacted; every string for an unknown tool). */
  readonly redactedArgs: Record<string, unknown>;
  /** Rows/objects the call would touch, when the tool can estimate it and the arguments are valid. */
  readonly blastRadius?: number;
}

export interface RunToolInput {
  readonly sessionId: string;
  readonly proposalSeq: number;
  readonly tool: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly idempotencyKey: string;
  /** Write-ahead events (proposed/decided/approved…), appended before the handler runs. */
  readonly before: readonly AuditEventInput[];
  /** Sequence number of the executed/failed event. */
  readonly afterSeq: number;
  /** Workflow time of the call (ISO 8601 or epoch ms): the `at` of the outcome event. */
  readonly at: string | number;
  /**
   * Attempts the workflow allows this call when fewer than the tool's own (an upstream MCP tool the
   * session's policy does not call idempotent gets 1): a transient failure on the last one is final.
   */
  readonly maxAttempts?: number;
  /**
   * The argument check runs before anything is written (the workflow gated the call without a
   * separate `prepareCall`): arguments that fail it come back `invalid`, with nothing recorded,
   * and every other result carries the redacted arguments.
   */
  readonly checkFirst?: boolean;
  /** The root agent the call is for: its upstream calls share `AgentSlots` of the catalog's connections. */
  readonly agentId?: string;
}

export interface ToolFailureInfo {
  readonly type: string;
  readonly message: string;
  readonly retryable: boolean;
}

/** `runTool`'s outcome: the handler's result, or why it failed. */
export type ToolOutcome = (
  | { readonly status: 'executed'; readonly result: unknown; readonly error?: undefined; readonly latencyMs: number }
  | { readonly status: 'failed'; readonly error: ToolFailureInfo; readonly result?: undefined; readonly latencyMs: number }
) & {
  /**
   * Upstream notifications this attempt relayed to the gateways, when it is the call's first: the
   * MCP gateway then waits for exactly those before it answers. Absent (a later attempt, an outcome
   * read from the ledger): the gateway waits for everything relayed so far instead.
   */
  readonly relayedNotes?: number;
};

/** `runTool`'s result: an outcome, or (with `checkFirst`) arguments refused before anything was written. */
export type RunToolResult = (
  | ToolOutcome
  | { readonly status: 'invalid'; readonly issues: readonly ToolIssue[]; readonly result?: undefined; readonly error?: undefined; readonly latencyMs: 0; readonly relayedNotes?: undefined }
) & { readonly redactedArgs?: Record<string, unknown> };
