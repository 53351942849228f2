/**
 * The Gatehouse Temporal client: what trusted code (the gateway, operators' commands, the demo,
 * tests) imports to drive sessions through Temporal directly. Agents do not: they hold an agent
 * credential and use `@gatehouse/client` (TypeScript, `packages/client`) or the Python client
 * (`clients/python`), which speak the gateway's HTTP API (DESIGN.md, "Who uses it").
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
import { connectTemporal, retryingInterceptors } from './grpc-retry';
import { Client, WithStartWorkflowOperation, type Connection, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowNotFoundError, type ConnectionOptions } from '@temporalio/client';
import { AGENT_KEY, MODE_KEY, OWNER_KEY, TOOLS_KEY } from '../workflows/search-attributes';
import {
  haltSignal,
  pauseSignal,
  raiseBudgetSignal,
  resumeSignal,
  SEARCH_ATTRIBUTES,
  SESSION_WORKFLOW_TYPE,
  sessionWorkflowId,
  startedUpdate,
  type BudgetOverride,
  type SessionStartInput,
  type VoteAnswer,
} from '../workflows/contract';
import { activeTelemetry } from '../telemetry/active';
import { loadConfig, temporalSecurity, type TemporalClientRole } from './config';
import { ApprovalNotPendingError, InvalidApprovalIdError, MissingCredentialError, mapSessionError } from './errors';
import { SessionHandle, waitUntilStarted } from './session';
import { issueAgentCredential } from './trust/credentials';
import type { SigningKey } from './trust/key-files';
export type { SigningKey } from './trust/key-files';
import { signDecision } from './trust/sign';
import { readKeyFile } from './trust/key-files';
import { SessionGoneError, temporalVoteSender } from './vote-sender';

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
  /** Whose client certificate a stack with mutual TLS connects with (`tls` unset). @default 'cli' */
  readonly role?: TemporalClientRole;
  /** The agent credential sessions start with. @default `GATEHOUSE_AGENT_TOKEN` */
  readonly token?: string;
  /**
   * Trusted code only (operators, tests, the development stack): an operator key with which
   * `startSession` issues a short-lived credential for the `agentId` and `owner` it is given.
   * @default the development stack's operator key, when `gatehouse start` made one
   */
  readonly issuer?: SigningKey;
  /**
   * Trusted code only (operators, tests): how a call rides out a Temporal it cannot reach, before it
   * fails with UNAVAILABLE (a gateway answers 503). @default the SDK's: 10 attempts over about 20 s,
   * reconnects backing off from 1 s to 2 min
   */
  readonly unreachable?: UnreachableOptions;
  /**
   * Trusted code only (the gateway): keeps each start's credential under a ticket the input names
   * instead (`audit/start-tickets.ts`), so no workflow history holds a bearer token. @default inline
   */
  readonly credentialTickets?: CredentialTickets;
}

/** Where the gateway keeps a start's credential (`audit/start-tickets.ts`'s `startTickets`). */
export interface CredentialTickets {
  /** Keeps the credential for that session's start; resolves with the ticket. */
  put(credential: string, sessionId: string): Promise<string>;
  /** Drops it once the start is answered. */
  drop(ticket: string): Promise<void>;
}

/** `ConnectOptions.unreachable`. */
export interface UnreachableOptions {
  /** Attempts of one call (the first included). @default 10 */
  readonly attempts?: number;
  /** The longest wait between two reconnects of the channel. @default 120_000 */
  readonly maxReconnectBackoffMs?: number;
}

/** The connection options of `ConnectOptions.unreachable`. */
function unreachableOptions(o: UnreachableOptions): Pick<ConnectionOptions, 'interceptors' | 'channelArgs'> {
  const maxReconnect = o.maxReconnectBackoffMs;
  return {
    interceptors: retryingInterceptors(o.attempts !== undefined ? { maxAttempts: o.attempts } : {}),
    ...(maxReconnect !== undefined ? { channelArgs: { 'grpc.initial_reconnect_backoff_ms': Math.min(1000, maxReconnect), 'grpc.max_reconnect_backoff_ms': maxReconnect } } : {}),
  };
}

export interface StartSessionOptions extends Omit<SessionStartInput, 'sessionId' | 'inheritedTransitions' | 'policy' | 'parentSessionId' | 'credential'> {
  /** @default a random UUID */
  readonly sessionId?: string;
  /** The agent credential; @default the connection's `token`, else one issued by its `issuer` */
  readonly credential?: string;
}

/** Sessions a fleet command (pause, resume) reaches at once. */
const FLEET_CONCURRENCY = 16;
/** How long one session may take to answer a resume's state query before it is left out (it stays paused). */
const FLEET_ANSWER_MS = 10_000;

/** A session a fleet command could not ask what it needed (no worker answered in time): left out. */
class SessionNotReached extends Error {
  constructor(readonly sessionId: string, cause: unknown) {
    super(`session \`${sessionId}\` did not answer`, { cause });
  }
}

/** Which sessions a fleet control applies to: one agent's, every session's use of one tool, or all. */
export type FleetSelector = { readonly agentId: string } | { readonly tool: string } | { readonly all: true };

export class Gatehouse {
  readonly client: Client;
  readonly taskQueue: string;
  readonly #connection: Connection;
  readonly #token: string | undefined;
  readonly #issuer: SigningKey | undefined;
  readonly #tickets: CredentialTickets | undefined;

  private constructor(connection: Connection, client: Client, taskQueue: string, token: string | undefined, issuer: SigningKey | undefined, tickets?: CredentialTickets) {
    this.#connection = connection;
    this.client = client;
    this.taskQueue = taskQueue;
    this.#token = token;
    this.#issuer = issuer;
    this.#tickets = tickets;
  }

  static async connect(options: ConnectOptions = {}): Promise<Gatehouse> {
    const needConfig = options.address === undefined || options.namespace === undefined || options.taskQueue === undefined;
    const config = needConfig ? loadConfig() : undefined;
    // Explicit options win; otherwise TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY / TEMPORAL_API_KEY apply.
    const fromEnv = config && options.tls === undefined && options.apiKey === undefined ? temporalSecurity(config, options.role) : {};
    const connection = await connectTemporal({
      address: options.address ?? config!.temporalAddress,
      ...fromEnv,
      ...(options.tls !== undefined ? { tls: options.tls } : {}),
      ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
      ...(options.unreachable ? unreachableOptions(options.unreachable) : {}),
    });
    // With telemetry on, starts, updates and signals carry the caller's trace context to the workflow.
    const telemetry = activeTelemetry();
    const client = new Client({
      connection,
      namespace: options.namespace ?? config!.namespace,
      ...(telemetry ? { interceptors: { workflow: telemetry.workflowClientInterceptors() } } : {}),
    });
    // An explicit issuer (trusted code) wins over an ambient token; an explicit token over both.
    const token = options.token ?? (options.issuer ? undefined : process.env.GATEHOUSE_AGENT_TOKEN || undefined);
    const issuer = options.issuer ?? (token === undefined ? developmentIssuer() : undefined);
    return new Gatehouse(connection, client, options.taskQueue ?? config!.taskQueue, token, issuer, options.credentialTickets);
  }

  /**
   * Starts a session; resolves with its handle once the worker accepted it (credential verified,
   * policy loaded). Throws `SessionStartRefusedError` when the worker refused it.
   */
  async startSession(options: StartSessionOptions): Promise<SessionHandle> {
    const sessionId = options.sessionId ?? randomUUID();
    const { credential: given, ...rest } = options;
    const credential = given ?? (await this.#credentialFor(options));
    const ticket = this.#tickets ? await this.#tickets.put(credential, sessionId) : undefined;
    const input: SessionStartInput = { ...rest, sessionId, ...(ticket !== undefined ? { credentialTicket: ticket } : { credential }) };
    const start = new WithStartWorkflowOperation(SESSION_WORKFLOW_TYPE, {
      taskQueue: this.taskQueue,
      workflowId: sessionWorkflowId(sessionId),
      // A session id is never reused, not even after the session closed.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      args: [input],
      typedSearchAttributes: [
        ...(options.agentId ? [{ key: AGENT_KEY, value: options.agentId }] : []),
        ...(options.owner ? [{ key: OWNER_KEY, value: options.owner }] : []),
        { key: MODE_KEY, value: 'normal' },
        { key: TOOLS_KEY, value: [] },
      ],
    });
    const handle = new SessionHandle(this.client, sessionId);
    // One round trip: the start and an update the session answers once its start task is done.
    const started = await this.client.workflow.executeUpdateWithStart(startedUpdate, { startWorkflowOperation: start }).catch(async (err: unknown) => {
      // The start itself was refused (an id in use): nothing started.
      if (!(await start.workflowHandle().then(() => true, () => false))) return mapSessionError(sessionId, err);
      // Started, but the update found the run already ended (a refused start) or a worker without
      // the `started` handler: the start's outcome is read as before.
      return undefined;
    });
    try {
      if (started !== true) await waitUntilStarted(handle);
    } finally {
      // The start is answered (taken or refused): its credential rests nowhere any longer.
      if (ticket !== undefined) await this.#tickets!.drop(ticket).catch(() => undefined);
    }
    return handle;
  }

  async #credentialFor(options: StartSessionOptions): Promise<string> {
    if (this.#token !== undefined) return this.#token;
    if (!this.#issuer) throw new MissingCredentialError('no agent credential: set `GATEHOUSE_AGENT_TOKEN` (from `gatehouse agents create`) or pass `token` to `Gatehouse.connect`');
    if (!options.agentId || !options.owner) throw new MissingCredentialError('issuing a credential needs `agentId` and `owner`');
    const issued = await issueAgentCredential(this.#issuer, {
      agentId: options.agentId,
      owner: options.owner,
      ...(options.policyRef ? { policies: [options.policyRef] } : {}),
      expiresInSeconds: 3600,
    });
    return issued.token;
  }

  /** A handle to an existing session (nothing is checked until it is used). */
  session(sessionId: string): SessionHandle {
    return new SessionHandle(this.client, sessionId);
  }

  /**
   * Approves a pending call with an approver's key: a signed vote the session verifies. Answers the
   * session's verdict (counted, or refused under the rule its alert names), or undefined when it
   * gave none within 15 s (a worker down) or runs on a worker from before the `vote` update.
   */
  async approve(approvalId: string, by: { key: SigningKey; reason?: string }): Promise<VoteAnswer | undefined> {
    return this.#vote(approvalId, true, by.key, by.reason);
  }

  /** Denies a pending call with an approver's key (a reason is required); answers as `approve`. */
  async deny(approvalId: string, by: { key: SigningKey; reason: string }): Promise<VoteAnswer | undefined> {
    return this.#vote(approvalId, false, by.key, by.reason);
  }

  async #vote(approvalId: string, approve: boolean, key: SigningKey, reason: string | undefined): Promise<VoteAnswer | undefined> {
    const sessionId = sessionOfApproval(approvalId);
    const handle = this.session(sessionId);
    const view = await handle.state();
    const pending = view.pendingApprovals.find((p) => p.approvalId === approvalId);
    if (!pending) throw new ApprovalNotPendingError(approvalId);
    const envelope = signDecision(key, {
      kind: 'vote',
      workflowId: view.workflowId,
      firstRunId: view.firstRunId,
      approvalId,
      callDigest: pending.callDigest,
      tool: pending.tool,
      verdict: approve ? 'approve' : 'deny',
      ...(reason ? { reason } : {}),
    });
    try {
      return await temporalVoteSender(this.client)(handle.workflow.workflowId, envelope);
    } catch (err) {
      return mapSessionError(sessionId, err instanceof SessionGoneError ? err.cause : err);
    }
  }

  /** Raises a session's budget: an operator-signed decision (budgets may only be raised by operators). */
  async raiseBudget(sessionId: string, budget: BudgetOverride, by: { key: SigningKey; reason?: string }): Promise<void> {
    const handle = this.session(sessionId);
    const view = await handle.state();
    const envelope = signDecision(by.key, { kind: 'budget-raise', workflowId: view.workflowId, firstRunId: view.firstRunId, budget: { ...budget }, ...(by.reason ? { reason: by.reason } : {}) });
    try {
      await handle.workflow.signal(raiseBudgetSignal, envelope);
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

  /** Pauses every matching running session (proposals wait, nothing is lost); resolves with their ids. Needs no signature. */
  async pause(selector: FleetSelector, by: string, reason?: string): Promise<string[]> {
    const tool = 'tool' in selector ? selector.tool : undefined;
    return this.#fleet(selector, async (handle) => {
      await handle.workflow.signal(pauseSignal, { by, ...(reason ? { reason } : {}), ...(tool ? { tool } : {}) });
    });
  }

  /** Lets paused sessions go on, with an operator's key (a resume loosens: it is signed per session). */
  async resume(selector: FleetSelector, by: { key: SigningKey; reason?: string }): Promise<string[]> {
    const tool = 'tool' in selector ? selector.tool : undefined;
    return this.#fleet(selector, async (handle) => {
      // Its state, to sign its own resume: a session no worker answers in time is left out (it stays paused).
      const view = await this.#connection.withDeadline(Date.now() + FLEET_ANSWER_MS, () => handle.state()).catch((err: unknown) => {
        throw new SessionNotReached(handle.sessionId, err);
      });
      const envelope = signDecision(by.key, { kind: 'resume', workflowId: view.workflowId, firstRunId: view.firstRunId, ...(tool ? { tool } : {}), ...(by.reason ? { reason: by.reason } : {}) });
      await handle.workflow.signal(resumeSignal, envelope);
    });
  }

  /**
   * Sends to every matching running session, `FLEET_CONCURRENCY` at a time; resolves with the ids
   * reached, in listing order. A session that finished meanwhile, or that `send` could not reach
   * (`SessionNotReached`), is left out; any other error is thrown.
   */
  async #fleet(selector: FleetSelector, send: (handle: SessionHandle) => Promise<void>): Promise<string[]> {
    let query = `WorkflowType = '${SESSION_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
    if ('agentId' in selector) query += ` AND ${SEARCH_ATTRIBUTES.agentId} = '${quote(selector.agentId)}'`;
    const listed: string[] = [];
    for await (const wf of this.client.workflow.list({ query })) listed.push(wf.workflowId.replace(/^session-/, ''));
    const reached = new Set<string>();
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < listed.length) {
        const sessionId = listed[next++]!;
        try {
          await send(this.session(sessionId));
          reached.add(sessionId);
        } catch (err) {
          // Finished between the listing and the signal, or no worker answered: nothing sent.
          if (!(err instanceof WorkflowNotFoundError) && !(err instanceof SessionNotReached)) throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(FLEET_CONCURRENCY, listed.length) }, lane));
    return listed.filter((id) => reached.has(id));
  }

  async close(): Promise<void> {
    await this.#connection.close();
  }
}

/** The session id of an approval id `<sessionId>:<n>`. */
export function sessionOfApproval(approvalId: string): string {
  const cut = approvalId.lastIndexOf(':');
  if (cut <= 0 || !/^\d+$/.test(approvalId.slice(cut + 1))) throw new InvalidApprovalIdError(approvalId);
  return approvalId.slice(0, cut);
}

/** The development stack's operator key (`gatehouse start` makes it under `.data/keys`), if running. */
function developmentIssuer(): SigningKey | undefined {
  const stack = loadConfig().stack;
  const path = stack?.keys?.developmentOperatorKey;
  if (!path) return undefined;
  try {
    return readKeyFile(path);
  } catch {
    return undefined;
  }
}

/** Escapes a value for a visibility query string literal. */
function quote(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
}
