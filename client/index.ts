/**
 * The Gatehouse client: what agents and operators import.
 *
 * ```ts
 * const gh = await Gatehouse.connect();
 * const session = await gh.startSession({ agentId: 'billing-bot', owner: 'eng-007', intent: 'clean up test billing records' });
 * const r = await session.propose({ tool: 'billing.query', args: { ... }, reasoning: '...' });
 * await session.end({ reason: 'done' });
 * ```
 * Defaults come from `loadConfig()` (environment, then the running stack's `.data/stack.json`).
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { parsePolicy } from '../policies';
import { AGENT_KEY, MODE_KEY, OWNER_KEY, TOOLS_KEY } from '../workflows/search-attributes';
import {
  approvalSignal,
  haltSignal,
  pauseSignal,
  resumeSignal,
  SEARCH_ATTRIBUTES,
  SESSION_WORKFLOW_TYPE,
  sessionWorkflowId,
  type SessionStartInput,
} from '../workflows/contract';
import { loadConfig, temporalSecurity } from './config';
import { InvalidApprovalIdError, InvalidPolicyError, mapSessionError } from './errors';
import { SessionHandle } from './session';

export { SessionHandle, ChildSessionHandle } from './session';
export * from './errors';
export type {
  ProposeResult,
  SessionProposal,
  SessionStateView,
  SessionSummary,
  SpawnChildInput,
  SpawnChildResult,
  ApprovalSignal,
} from '../workflows/contract';

export interface ConnectOptions {
  /** `host:port` of the Temporal frontend. @default from `loadConfig()` */
  readonly address?: string;
  /** @default from `loadConfig()` ('default') */
  readonly namespace?: string;
  /** @default from `loadConfig()` ('gatehouse') */
  readonly taskQueue?: string;
  readonly tls?: ConnectionOptions['tls'];
  readonly apiKey?: string;
}

export interface StartSessionOptions extends Omit<SessionStartInput, 'sessionId' | 'inheritedTransitions'> {
  /** @default a random UUID */
  readonly sessionId?: string;
}

/** Which sessions a fleet control applies to: one agent's, every session's use of one tool, or all. */
export type FleetSelector = { readonly agentId: string } | { readonly tool: string } | { readonly all: true };

export class Gatehouse {
  readonly client: Client;
  readonly taskQueue: string;
  readonly #connection: Connection;

  private constructor(connection: Connection, client: Client, taskQueue: string) {
    this.#connection = connection;
    this.client = client;
    this.taskQueue = taskQueue;
  }

  static async connect(options: ConnectOptions = {}): Promise<Gatehouse> {
    const needConfig = options.address === undefined || options.namespace === undefined || options.taskQueue === undefined;
    const config = needConfig ? loadConfig() : undefined;
    // Explicit options win; otherwise TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY / TEMPORAL_API_KEY apply.
    const fromEnv = config && options.tls === undefined && options.apiKey === undefined ? temporalSecurity(config) : {};
    const connection = await Connection.connect({
      address: options.address ?? config!.temporalAddress,
      ...fromEnv,
      ...(options.tls !== undefined ? { tls: options.tls } : {}),
      ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
    });
    const client = new Client({ connection, namespace: options.namespace ?? config!.namespace });
    return new Gatehouse(connection, client, options.taskQueue ?? config!.taskQueue);
  }

  /** Starts a session; resolves with its handle once the workflow is started. */
  async startSession(options: StartSessionOptions): Promise<SessionHandle> {
    const sessionId = options.sessionId ?? randomUUID();
    if (options.policy !== undefined) {
      // Checked here too so a bad document fails at the caller, with paths, before anything starts.
      const parsed = parsePolicy(options.policy);
      if (!parsed.success) {
        const first = parsed.issues[0];
        throw new InvalidPolicyError(`invalid policy${first ? `: ${first.path}: ${first.message}` : ''}`, parsed.issues);
      }
    }
    const input: SessionStartInput = { ...options, sessionId };
    try {
      await this.client.workflow.start(SESSION_WORKFLOW_TYPE, {
        taskQueue: this.taskQueue,
        workflowId: sessionWorkflowId(sessionId),
        args: [input],
        typedSearchAttributes: [
          { key: AGENT_KEY, value: options.agentId },
          { key: OWNER_KEY, value: options.owner },
          { key: MODE_KEY, value: 'normal' },
          { key: TOOLS_KEY, value: [] },
        ],
      });
    } catch (err) {
      return mapSessionError(sessionId, err);
    }
    return new SessionHandle(this.client, sessionId);
  }

  /** A handle to an existing session (nothing is checked until it is used). */
  session(sessionId: string): SessionHandle {
    return new SessionHandle(this.client, sessionId);
  }

  async approve(approvalId: string, by: { approver: string; reason?: string }): Promise<void> {
    await this.#decide(approvalId, true, by.approver, by.reason);
  }

  async deny(approvalId: string, by: { approver: string; reason: string }): Promise<void> {
    await this.#decide(approvalId, false, by.approver, by.reason);
  }

  async #decide(approvalId: string, approve: boolean, approver: string, reason: string | undefined): Promise<void> {
    const cut = approvalId.lastIndexOf(':');
    if (cut <= 0 || !/^\d+$/.test(approvalId.slice(cut + 1))) throw new InvalidApprovalIdError(approvalId);
    const sessionId = approvalId.slice(0, cut);
    try {
      await this.client.workflow.getHandle(sessionWorkflowId(sessionId)).signal(approvalSignal, { approvalId, approve, approver, ...(reason ? { reason } : {}) });
    } catch (err) {
      mapSessionError(sessionId, err);
    }
  }

  /** The kill switch: nothing more runs in the session, pending approvals are cancelled. */
  async halt(sessionId: string, by: { by: string; reason: string }): Promise<void> {
    try {
      await this.client.workflow.getHandle(sessionWorkflowId(sessionId)).signal(haltSignal, { by: by.by, reason: by.reason });
    } catch (err) {
      mapSessionError(sessionId, err);
    }
  }

  /** Pauses every matching running session (proposals wait, nothing is lost); resolves with their ids. */
  pause(selector: FleetSelector, by: string, reason?: string): Promise<string[]> {
    return this.#fleet(selector, by, reason, true);
  }

  /** Lets paused sessions go on; resolves with the ids signalled. */
  resume(selector: FleetSelector, by: string, reason?: string): Promise<string[]> {
    return this.#fleet(selector, by, reason, false);
  }

  async #fleet(selector: FleetSelector, by: string, reason: string | undefined, pause: boolean): Promise<string[]> {
    let query = `WorkflowType = '${SESSION_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
    if ('agentId' in selector) query += ` AND ${SEARCH_ATTRIBUTES.agentId} = '${quote(selector.agentId)}'`;
    const tool = 'tool' in selector ? selector.tool : undefined;
    const ids: string[] = [];
    for await (const wf of this.client.workflow.list({ query })) {
      const handle = this.client.workflow.getHandle(wf.workflowId);
      try {
        await handle.signal(pause ? pauseSignal : resumeSignal, { by, ...(reason ? { reason } : {}), ...(tool ? { tool } : {}) });
        ids.push(wf.workflowId.replace(/^session-/, ''));
      } catch {
        // A session that finished between the listing and the signal needs no pause.
      }
    }
    return ids;
  }

  async close(): Promise<void> {
    await this.#connection.close();
  }
}

/** Escapes a value for a visibility query string literal. */
function quote(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
}
