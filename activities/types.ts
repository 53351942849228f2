/**
 * The activity interface of the session workflow: every call it makes to the world, by name and
 * shape. `createActivities` (index.ts) must produce exactly this (the compiler checks it), and
 * the workflow proxies it as a type only, so no Node code is bundled into workflow code.
 */
import type { ApprovalEscalation, ApprovalRequest, ApprovalResolution } from '../approvals/types';
import type { AuditEventInput, SessionPatch, SessionRecord } from '../audit/types';
import type { PrepareCallInput, PrepareCallResult, RunToolInput, RunToolResult } from './tools/activities';
import type { ToolDescriptor } from './tools/catalog';
import type { Keyset } from '../policies/trust/keyset';
import type { LedgerResult } from '../policies/ledger';
import type { ReserveInput, ReturnLeasesInput } from './ledger';
import type { AskTreeRootInput } from './tree-root';
import type { TreeStepResult } from '../policies/tree-sequences';
import type { BudgetOverride, Mandate } from '../policies/types';

export type { ReserveInput, ReturnLeasesInput } from './ledger';

/**
 * What the workflow needs of a tool to proxy its activity: the catalog's `ToolDescriptor` as a
 * session recorded it at start. Fields added later may be absent in older sessions' histories:
 * no `execution` means a regular activity.
 */
export type SessionToolDescriptor = Omit<ToolDescriptor, 'nonRetryable' | 'execution'> & Partial<Pick<ToolDescriptor, 'nonRetryable' | 'execution'>>;

export interface LoadSessionContextInput {
  readonly sessionId: string;
  /** The agent credential of a top-level session. */
  readonly credential?: string;
  /** Or the ticket it is kept under (`audit/start-tickets.ts`). */
  readonly credentialTicket?: string;
  /** What the start input claimed; each must match the credential. */
  readonly agentId?: string;
  readonly owner?: string;
  readonly policyRef?: string;
  /** True when the start input carried a policy document (always refused). */
  readonly policyDocumentGiven: boolean;
  /**
   * Set when Temporal says the workflow has a parent: everything comes from the parent's spawn
   * record (`readSpawnRecord`), nothing from this input.
   */
  readonly fromParent?: boolean;
  /** What workflow code before `fromParent` sent for a sub-agent: read as `fromParent`, its fields ignored. */
  readonly child?: unknown;
}

/** Why a session start was refused: a stable rule id and a sentence. */
export interface StartRefusal {
  readonly rule: string;
  readonly message: string;
}

/**
 * What a session snapshots at start: who it acts for (from the credential), the named policy and
 * the catalog it is compiled with, and the keyset it verifies signed decisions against.
 */
export interface SessionContext {
  readonly policyName: string;
  readonly policyDocument: unknown;
  readonly descriptors: readonly SessionToolDescriptor[];
  readonly keyset: Keyset;
  /** A sub-agent's are its root credential's (`credentialId`, `credentialIssuedAt`). */
  readonly identity: { readonly agentId: string; readonly owner: string; readonly principal: string; readonly credentialId?: string; readonly credentialIssuedAt?: string };
  /** A sub-agent's start, from its parent's record: what the start input's fields used to carry. */
  readonly spawn?: SpawnStart;
  /** The worker's bound on a session run's history (events): the session continues as new past it. */
  readonly historyLimit?: number;
}

/** What a sub-agent starts with besides its identity and policy: all from its parent's spawn record. */
export interface SpawnStart {
  readonly parentSessionId: string;
  readonly intent: string;
  readonly budget: BudgetOverride;
  readonly mandate?: Mandate;
  readonly inheritedTransitions?: unknown;
  /** Its share of the rate limits and its parent's rate windows (patch `rates-shared-in-tree`). */
  readonly inheritedRates?: unknown;
}

// The tool activities' shapes are the catalog's own: one definition, seen here by the workflow.
export type { PrepareCallInput, PrepareCallResult, RunToolInput, RunToolResult } from './tools/activities';

export interface ScoreIntentInput {
  readonly intent: string;
  /** Executed actions; the activity fills in each tool's description from the catalog. */
  readonly actions: readonly { readonly tool: string; readonly args?: Readonly<Record<string, unknown>>; readonly at: string; readonly effect?: 'read' | 'write' | 'destructive' }[];
  readonly now: string;
}

/**
 * `runTool`'s input as the workflow sends it: with the intent to score when the call executes, so
 * a quick call needs no separate scoring step.
 */
export interface SessionRunToolInput extends RunToolInput {
  readonly intent?: ScoreIntentInput;
}

/** `runTool`'s result; `intentScore` when it scored the executed call (absent: score it separately). */
export type SessionRunToolResult = RunToolResult & { readonly intentScore?: number };

/** Every activity the session workflow calls. */
export interface SessionActivities {
  loadSessionContext(input: LoadSessionContextInput): Promise<SessionContext>;
  refuseSessionStart(sessionId: string, refusal: StartRefusal): Promise<never>;
  startSessionRecord(rec: SessionRecord, events: readonly AuditEventInput[]): Promise<void>;
  appendAudit(events: readonly AuditEventInput[]): Promise<void>;
  /** An alert outside the session's chain (the `alerts` table), for when the chain cannot be written. */
  raiseSessionAlert(sessionId: string, rule: string, message: string, at: string): Promise<void>;
  patchSession(sessionId: string, patch: SessionPatch): Promise<void>;
  prepareCall(input: PrepareCallInput): Promise<PrepareCallResult>;
  runTool(input: SessionRunToolInput): Promise<SessionRunToolResult>;
  scoreIntent(input: ScoreIntentInput): Promise<{ readonly score: number }>;
  /** Similarity of a sub-agent's intent to its parent's, 0..1. */
  compareIntents(a: string, b: string): Promise<{ readonly score: number }>;
  /** Stores the approval's row, posting nothing; `conflict` as `requestApproval`'s. */
  storeApproval(req: ApprovalRequest): Promise<{ readonly conflict?: readonly string[] }>;
  /** `conflict`: another row holds the approval's id (the fields that differ); nothing was posted. */
  requestApproval(req: ApprovalRequest): Promise<{ readonly conflict?: readonly string[] } | undefined>;
  escalateApproval(req: ApprovalRequest, e: ApprovalEscalation): Promise<unknown>;
  resolveApproval(req: ApprovalRequest, r: ApprovalResolution): Promise<unknown>;
  /** A reservation in a cross-session ledger (agent- or owner-wide rules). */
  reserveAcrossSessions(input: ReserveInput): Promise<LedgerResult>;
  /** Hands back the calls a session leased from a cross-session ledger and did not spend. */
  returnLeases(input: ReturnLeasesInput): Promise<{ readonly returned: number }>;
  /** A sub-agent's sequence step, asked of its session tree's root before the call runs. */
  askTreeRoot(input: AskTreeRootInput): Promise<TreeStepResult>;
}
