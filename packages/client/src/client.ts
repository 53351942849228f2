/**
 * `Gatehouse`: a connection to the gateway acting as the agent of one credential. It holds the
 * URL and the token, sends requests, and follows a pending answer (a call held for a person) by
 * reading its outcome until it is final — the way the gateway offers (`202` then
 * `GET .../proposals/{proposalId}?wait=`).
 */
import { GatewayUnreachableError, ProtocolError } from './errors.js';
import { DEFAULT_WAIT_SECONDS, pick, resolveSettings, send, sessionPath, shownUrl, type Call, type ConnectOptions, type Settings } from './http.js';
import { Session } from './session.js';
import type { Budget, Mandate, Pending, StartedSession } from './types.js';

export interface StartSessionOptions {
  /** What the session is for, in words: the gate weighs every proposal against it. */
  readonly intent: string;
  /** A policy the worker loaded that the credential lists (`agents create --policy`). @default the worker's default */
  readonly policyRef?: string;
  /** A tighter budget than the policy gives (budgets may only tighten). */
  readonly budget?: Budget;
  readonly mandate?: Mandate;
  /** @default a random uuid; never reused */
  readonly sessionId?: string;
}

export class Gatehouse {
  readonly #settings: Settings;
  readonly #closing = new AbortController();

  private constructor(settings: Settings) {
    this.#settings = settings;
  }

  /**
   * Connects to the gateway at `url` (default `GATEHOUSE_URL`) with the agent credential `token`
   * (default `GATEHOUSE_AGENT_TOKEN`), and checks the gateway answers.
   */
  static async connect(options: ConnectOptions = {}): Promise<Gatehouse> {
    const gh = new Gatehouse(resolveSettings(options));
    const health = await fetch(`${gh.url}/healthz`, { redirect: 'error', signal: AbortSignal.timeout(gh.#settings.timeoutSeconds * 1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (!health) throw new GatewayUnreachableError(`no gateway answers at \`${shownUrl(gh.url)}\`: is the stack running, and is the URL the \`gateway\` line \`npm start\` printed`, { type: 'urn:gatehouse:problem:unreachable' });
    return gh;
  }

  /** The gateway's address. */
  get url(): string {
    return this.#settings.url;
  }

  /** Starts a session under the credential's agent and owner. */
  async startSession(options: StartSessionOptions): Promise<Session> {
    const body = { intent: options.intent, ...pick(options, ['sessionId', 'policyRef', 'budget', 'mandate']) };
    const started = (await this.request({ method: 'POST', path: '/v1/sessions', context: 'start', body })) as StartedSession;
    if (typeof started?.sessionId !== 'string') throw new ProtocolError('startSession: the gateway answered no `sessionId`');
    return new Session(this, started.sessionId, started);
  }

  /** A handle on an existing session of this agent (sends nothing). */
  session(sessionId: string): Session {
    return new Session(this, sessionId);
  }

  /** Cancels requests in flight; the client sends nothing more. */
  close(): void {
    this.#closing.abort();
  }

  /** @internal One request to the gateway. */
  async request(call: Call): Promise<unknown> {
    return send(this.#settings, call, this.#closing.signal);
  }

  /**
   * @internal Reads the outcome of `body` while it is pending (`follow`), each read held `wait`
   * seconds; returns the final answer, or the pending one when not following. `proposalId` (a
   * proposal's, not a spawn's) is named on a `GatewayUnreachableError` of those reads.
   */
  async settle(sessionId: string, body: unknown, wait: number, follow: boolean, proposalId?: string): Promise<unknown> {
    const hold = wait > 0 ? wait : DEFAULT_WAIT_SECONDS;
    while (follow && isPending(body)) {
      body = await this.request({ method: 'GET', path: sessionPath(sessionId, 'proposals', body.proposalId), context: 'poll', wait: hold, hold, ...(proposalId === undefined ? {} : { proposalId }) });
    }
    if (typeof body !== 'object' || body === null) throw new ProtocolError(`expected a JSON object from the gateway, got \`${String(body)}\``);
    return body;
  }
}

export function isPending(body: unknown): body is Pending {
  return typeof body === 'object' && body !== null && (body as { status?: unknown }).status === 'pending' && typeof (body as { proposalId?: unknown }).proposalId === 'string';
}
