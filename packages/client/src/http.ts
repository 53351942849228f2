/**
 * One request to the gateway and its answer: the body of a 2xx as JSON, any other answer as the
 * typed error of its problem document, no answer as `GatewayUnreachableError`. Node's own `fetch`;
 * no dependency. Redirects are never followed: one is a `GatewayUnreachableError` (`unexpected redirect`).
 */
import { ConfigurationError, GatewayUnreachableError, MissingCredentialError, ProtocolError, errorFromProblem, type RequestContext } from './errors.js';

export const URL_ENV = 'GATEHOUSE_URL';
export const TOKEN_ENV = 'GATEHOUSE_AGENT_TOKEN';
/** Seconds the gateway holds a proposal before answering "pending" (its own default). */
export const DEFAULT_WAIT_SECONDS = 25;
export const MAX_WAIT_SECONDS = 60;
/** Seconds a request may take on top of the time the gateway is asked to hold it. */
export const DEFAULT_TIMEOUT_SECONDS = 30;
/** How long the gateway holds an `end` (it runs after every earlier proposal). */
export const END_HOLD_SECONDS = 60;
const USER_AGENT = 'gatehouse-client-js/0.1.0';

// Module-local: the package needs no Node type declarations, and works where `process` is absent.
declare const process: { readonly env: Readonly<Record<string, string | undefined>> } | undefined;

export interface ConnectOptions {
  /** The gateway's address (the `gateway` line `npm start` prints). @default `GATEHOUSE_URL` */
  readonly url?: string;
  /** The agent credential (`gatehouse agents create <agentId> --owner <person>`). @default `GATEHOUSE_AGENT_TOKEN` */
  readonly token?: string;
  /** Seconds a request may take on top of the time the gateway is asked to hold it. @default 30 */
  readonly timeoutSeconds?: number;
}

/** One request: `hold` is how long the gateway may hold it (`?wait=`), added to the timeout. */
export interface Call {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly context: RequestContext;
  readonly body?: unknown;
  readonly wait?: number;
  readonly idempotencyKey?: string;
  readonly hold?: number;
  /** The proposal this request sends or reads: a `GatewayUnreachableError` names it, so the caller can read its outcome. */
  readonly proposalId?: string;
}

export interface Settings {
  readonly url: string;
  readonly token: string;
  readonly timeoutSeconds: number;
}

function env(name: string): string | undefined {
  return typeof process === 'undefined' ? undefined : process.env[name];
}

/** The URL and credential: the options, else `GATEHOUSE_URL` / `GATEHOUSE_AGENT_TOKEN`; a clear error naming what is missing. */
export function resolveSettings(options: ConnectOptions): Settings {
  const url = (options.url ?? env(URL_ENV) ?? '').trim();
  if (url === '') throw new ConfigurationError(`no gateway URL: set \`${URL_ENV}\` (the \`gateway\` address \`npm start\` prints) or pass \`url\``, { type: 'urn:gatehouse:problem:missing-url' });
  if (!/^https?:\/\/[^/]/.test(url)) throw new ConfigurationError(`the gateway URL \`${url}\` is not an http(s) URL`, { type: 'urn:gatehouse:problem:missing-url' });
  const token = (options.token ?? env(TOKEN_ENV) ?? '').trim();
  if (token === '') {
    throw new MissingCredentialError(`no agent credential: set \`${TOKEN_ENV}\` (from \`gatehouse agents create <agentId> --owner <person>\`) or pass \`token\``, { type: 'urn:gatehouse:problem:missing-credential' });
  }
  return { url: url.replace(/\/+$/, ''), token, timeoutSeconds: options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS };
}

/** `url` as an error message may show it: without any `user:password@` it carries. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.href.replace(/\/+$/, '');
  } catch {
    return '(an invalid URL)';
  }
}

/** `wait` if the gateway accepts it (0 to 60 seconds); else a `RangeError`. */
export function checkWait(wait: number): number {
  if (!(wait >= 0 && wait <= MAX_WAIT_SECONDS)) throw new RangeError(`wait must be between 0 and ${MAX_WAIT_SECONDS} seconds, not \`${wait}\``);
  return wait;
}

/** What the gateway takes as an `Idempotency-Key`, hence as a proposal id. */
const PROPOSAL_ID = /^[\w.:-]{1,200}$/;

/** `id` if the gateway accepts it as a proposal id (1 to 200 letters, digits or `.:_-`); else a `RangeError`. */
export function checkProposalId(id: string): string {
  if (!PROPOSAL_ID.test(id)) throw new RangeError(`proposalId must be 1 to 200 letters, digits or \`.:_-\`, not \`${id}\``);
  return id;
}

/** `/v1/sessions/<id>/<rest...>`, each segment escaped. */
export function sessionPath(sessionId: string, ...rest: string[]): string {
  return ['/v1/sessions', ...[sessionId, ...rest].map(encodeURIComponent)].join('/');
}

/** Sends `call`; aborted by `signal` (the client's close) or after the timeout plus the hold. */
export async function send(settings: Settings, call: Call, signal: AbortSignal): Promise<unknown> {
  const url = new URL(settings.url + call.path);
  if (call.wait !== undefined) url.searchParams.set('wait', String(checkWait(call.wait)));
  const headers: Record<string, string> = {
    authorization: `Bearer ${settings.token}`,
    accept: 'application/json, application/problem+json',
    'user-agent': USER_AGENT,
  };
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  if (call.idempotencyKey !== undefined) headers['idempotency-key'] = call.idempotencyKey;
  const timeout = AbortSignal.timeout((settings.timeoutSeconds + (call.hold ?? 0)) * 1000);
  const unreachable = (what: string, cause: unknown) =>
    new GatewayUnreachableError(`${call.method} ${url.origin}${call.path} ${what}`, { type: 'urn:gatehouse:problem:unreachable', cause, ...pick(call, ['proposalId']) });
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: call.method,
      headers,
      // The gateway never redirects: a redirect is not followed (it would send the credential and the
      // whole proposal to wherever it points, and return that host's answer as the gateway's).
      redirect: 'error',
      signal: AbortSignal.any([signal, timeout]),
      ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
    });
    // The answer can be lost after its headers too (the connection drops mid-body): no answer either.
    text = await response.text();
  } catch (err) {
    throw unreachable(timeout.aborted ? 'timed out' : signal.aborted ? 'was cancelled: the client is closed' : `failed: ${describe(err)}`, err);
  }
  if (response.ok) {
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ProtocolError(`${call.method} ${call.path}: the gateway answered HTTP ${response.status} with a body that is not JSON`, { status: response.status });
    }
  }
  let body: unknown = text;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    // not JSON: the text itself becomes the detail
  }
  throw errorFromProblem(response.status, body, response.headers.get('retry-after'), call.context);
}

/** The fields of `options` named in `keys` that are set (the gateway refuses nulls). */
export function pick<T extends object, K extends keyof T>(options: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (options[k] !== undefined) out[k] = options[k];
  return out;
}

function describe(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}
