/**
 * One agent session over the gateway: propose tool calls, wait for held ones, spawn sub-agents,
 * read the state, end or halt it. Every method is one `/v1/sessions/{id}/...` route.
 */
import type { Gatehouse } from './client.js';
import { SubAgentDeniedError } from './errors.js';
import { DEFAULT_WAIT_SECONDS, END_HOLD_SECONDS, checkProposalId, checkWait, pick, sessionPath } from './http.js';
import type { Mandate, Pending, Proposal, ProposeOutcome, ProposeResult, SessionState, SessionSummary, SpawnChildResult, StartedSession } from './types.js';

export interface WaitOptions {
  /** Seconds the gateway may hold each request for the outcome (0 to 60). @default 25 */
  readonly wait?: number;
  /** Follow a held call until it is final (executed, denied, failed, expired). `false` returns `Pending` instead. @default true */
  readonly waitForFinal?: boolean;
}

export interface ProposeOptions extends WaitOptions {
  /**
   * The proposal's id, sent as its `Idempotency-Key`: the gateway takes a proposal sent again with
   * the same id as the same proposal (it answers the first one's outcome, and the call runs at most
   * once). Give one the agent keeps (1 to 200 letters, digits or `.:_-`) to propose again safely
   * after the agent itself restarted. @default a random uuid
   */
  readonly proposalId?: string;
}

export interface SpawnOptions {
  /** The sub-agent's id (its sessions act under this credential's agent). */
  readonly agentId: string;
  readonly intent: string;
  readonly mandate?: Mandate;
}

export class Session {
  readonly #gh: Gatehouse;
  readonly sessionId: string;
  /** The gateway's answer to the start (undefined for a handle from `gh.session(id)` or a sub-agent). */
  readonly started: StartedSession | undefined;
  /** For a sub-agent: the spawn result (its share of the budget, its intent score). */
  readonly spawn: SpawnChildResult | undefined;

  /** Made by `gh.startSession`, `gh.session` and `session.spawnChild`. */
  constructor(gh: Gatehouse, sessionId: string, started?: StartedSession, spawn?: SpawnChildResult) {
    this.#gh = gh;
    this.sessionId = sessionId;
    this.started = started;
    this.spawn = spawn;
  }

  /**
   * Proposes one tool call and answers its outcome. The gateway holds the request up to `wait`
   * seconds; a call still waiting then (held for a person) is followed until it is final. With
   * `waitForFinal: false` a `Pending` comes back instead, for `waitFor`. A
   * `GatewayUnreachableError` carries the proposal's `proposalId`: the proposal may have reached
   * the gateway, so `waitFor(err.proposalId)` reads its outcome where proposing again would send a second one.
   */
  propose(proposal: ProposalInput, options?: ProposeOptions & { readonly waitForFinal?: true }): Promise<ProposeResult>;
  propose(proposal: ProposalInput, options: ProposeOptions): Promise<ProposeOutcome>;
  async propose(proposal: ProposalInput, options: ProposeOptions = {}): Promise<ProposeOutcome> {
    const wait = checkWait(options.wait ?? DEFAULT_WAIT_SECONDS);
    // The update id: a resent request is the same update, never a second call.
    const proposalId = options.proposalId === undefined ? randomKey() : checkProposalId(options.proposalId);
    const body = { tool: proposal.tool, args: proposal.args ?? {}, reasoning: proposal.reasoning ?? '', ...pick(proposal, ['tokenCost', 'idempotencyKey', 'requestUnlock']) };
    const first = await this.#gh.request({ method: 'POST', path: sessionPath(this.sessionId, 'proposals'), context: 'propose', body, wait, hold: wait, idempotencyKey: proposalId, proposalId });
    return (await this.#gh.settle(this.sessionId, first, wait, options.waitForFinal ?? true, proposalId)) as ProposeOutcome;
  }

  /** The outcome of a pending proposal (a `Pending` or its `proposalId`), followed until final unless `waitForFinal: false`. */
  waitFor(pending: Pending | string, options?: WaitOptions & { readonly waitForFinal?: true }): Promise<ProposeResult>;
  waitFor(pending: Pending | string, options: WaitOptions): Promise<ProposeOutcome>;
  async waitFor(pending: Pending | string, options: WaitOptions = {}): Promise<ProposeOutcome> {
    const wait = checkWait(options.wait ?? DEFAULT_WAIT_SECONDS);
    const proposalId = typeof pending === 'string' ? pending : pending.proposalId;
    const first = await this.#gh.request({ method: 'GET', path: sessionPath(this.sessionId, 'proposals', proposalId), context: 'poll', wait, hold: wait, proposalId });
    return (await this.#gh.settle(this.sessionId, first, wait, options.waitForFinal ?? true, proposalId)) as ProposeOutcome;
  }

  /** Mode, counters, budget left, held calls, last actions. */
  async state(): Promise<SessionState> {
    return (await this.#gh.request({ method: 'GET', path: sessionPath(this.sessionId), context: 'session' })) as SessionState;
  }

  /**
   * Starts a sub-agent session with its own intent and a share of this session's budget; throws
   * `SubAgentDeniedError` when it was denied or its approval expired.
   */
  async spawnChild(options: SpawnOptions, wait: WaitOptions['wait'] = DEFAULT_WAIT_SECONDS): Promise<Session> {
    checkWait(wait);
    const body = { agentId: options.agentId, intent: options.intent, ...pick(options, ['mandate']) };
    const first = await this.#gh.request({ method: 'POST', path: sessionPath(this.sessionId, 'children'), context: 'spawn', body, wait, hold: wait, idempotencyKey: randomKey() });
    const result = (await this.#gh.settle(this.sessionId, first, wait, true)) as SpawnChildResult;
    if (result.status !== 'started') throw SubAgentDeniedError.of(result);
    return new Session(this.#gh, result.sessionId, undefined, result);
  }

  /** Ends the session once every earlier proposal is final; answers its summary. */
  async end(options: { readonly reason?: string } = {}): Promise<SessionSummary> {
    const first = await this.#gh.request({ method: 'POST', path: sessionPath(this.sessionId, 'end'), context: 'session', body: pick(options, ['reason']), hold: END_HOLD_SECONDS });
    return (await this.#gh.settle(this.sessionId, first, DEFAULT_WAIT_SECONDS, true)) as SessionSummary;
  }

  /** The kill switch, pulled by the agent itself: nothing more runs in this session. */
  async halt(reason: string): Promise<void> {
    await this.#gh.request({ method: 'POST', path: sessionPath(this.sessionId, 'halt'), context: 'session', body: { reason } });
  }
}

/** A proposal as `propose` takes it: `args` and `reasoning` may be left out. */
export type ProposalInput = Pick<Proposal, 'tool'> & Partial<Omit<Proposal, 'tool'>>;

function randomKey(): string {
  return globalThis.crypto.randomUUID();
}
