/**
 * The authorization server's short-lived state, in the gateway's memory: registered clients,
 * authorization requests waiting for an operator's consent, and authorization codes. Nothing here
 * is a secret that outlives a flow: the access token a code turns into is an operator-signed agent
 * credential, verified like any other, so a restart loses flows in progress and nothing else
 * (hosts register again). Bounded: past the caps the oldest entries go first — of clients, the
 * oldest that never got a token, so a flood of registrations cannot push out a host that signed in.
 */
import { createHash, randomBytes } from 'node:crypto';

/** A client registered by RFC 7591 dynamic registration (public: PKCE, no secret). */
export interface OAuthClient {
  readonly clientId: string;
  readonly clientName: string;
  readonly redirectUris: readonly string[];
  readonly issuedAt: number;
  /** Set once a code of it was exchanged for a token: past the cap, unused clients go first. */
  used?: boolean;
}

/** An authorization request: what the client asked for, and the credential an operator consented with. */
export interface AuthorizationRequest {
  readonly id: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly resource: string;
  readonly state?: string;
  readonly scope?: string;
  readonly expiresAt: number;
  /** Set once, by an operator's consent: the agent credential the code will turn into. */
  consent?: { readonly credential: string; readonly agentId: string; readonly owner: string; readonly credentialId: string; readonly expiresAt: string };
  /** Set when the code was handed out: a request yields one code only. */
  codeIssued?: boolean;
}

/** An authorization code: one use, a minute long, bound to client, redirect URI, PKCE challenge and resource. */
export interface AuthorizationCode {
  readonly request: AuthorizationRequest;
  readonly expiresAt: number;
  used: boolean;
  /** The exchange that spent it gave the token. */
  granted?: boolean;
}

export const REQUEST_TTL_MS = 10 * 60_000;
export const CODE_TTL_MS = 60_000;
export const MAX_CLIENTS = 10_000;
const MAX_REQUESTS = 10_000;

/** A random identifier of `bytes` bytes, base64url. */
export function randomId(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** RFC 7636 S256: base64url(sha256(verifier)). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

function bounded<K, V>(map: Map<K, V>, cap: number): void {
  while (map.size >= cap) map.delete(map.keys().next().value as K);
}

export class OAuthStore {
  readonly #clients = new Map<string, OAuthClient>();
  readonly #requests = new Map<string, AuthorizationRequest>();
  // Codes are kept (as used) after their first exchange until they expire: a replay is recognised.
  readonly #codes = new Map<string, AuthorizationCode>();
  // Credentials withdrawn because their code was replayed (OAuth 2.1 §4.1.3): refused until they expire.
  readonly #withdrawn = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  register(clientName: string, redirectUris: readonly string[]): OAuthClient {
    while (this.#clients.size >= MAX_CLIENTS) this.#clients.delete(this.#oldestUnused() ?? (this.#clients.keys().next().value as string));
    const client: OAuthClient = { clientId: `client-${randomId(16)}`, clientName, redirectUris: [...redirectUris], issuedAt: Math.floor(this.now() / 1000) };
    this.#clients.set(client.clientId, client);
    return client;
  }

  client(clientId: string): OAuthClient | undefined {
    return this.#clients.get(clientId);
  }

  /** Marks a client as one that got a token. */
  clientUsed(clientId: string): void {
    const c = this.#clients.get(clientId);
    if (c) c.used = true;
  }

  #oldestUnused(): string | undefined {
    for (const [id, c] of this.#clients) if (!c.used) return id;
    return undefined;
  }

  /** A new pending request, valid for {@link REQUEST_TTL_MS}. */
  request(fields: Omit<AuthorizationRequest, 'id' | 'expiresAt'>): AuthorizationRequest {
    this.#sweep();
    bounded(this.#requests, MAX_REQUESTS);
    // Prefixed: a person types it as `gatehouse mcp authorize <id>`, and a bare base64url id can begin with `-` (an option).
    const request: AuthorizationRequest = { ...fields, id: `req-${randomId(16)}`, expiresAt: this.now() + REQUEST_TTL_MS };
    this.#requests.set(request.id, request);
    return request;
  }

  /** A request that has not expired. */
  pending(id: string): AuthorizationRequest | undefined {
    const r = this.#requests.get(id);
    return r && r.expiresAt > this.now() ? r : undefined;
  }

  /** The one code of a consented request; undefined once it was handed out. */
  issueCode(request: AuthorizationRequest): string | undefined {
    if (!request.consent || request.codeIssued) return undefined;
    request.codeIssued = true;
    const code = randomId(32);
    this.#codes.set(code, { request, expiresAt: this.now() + CODE_TTL_MS, used: false });
    return code;
  }

  code(code: string): AuthorizationCode | undefined {
    return this.#codes.get(code);
  }

  /** Refuses a credential from now on (its code was replayed). */
  withdraw(credentialId: string, until: number): void {
    this.#withdrawn.set(credentialId, until);
  }

  isWithdrawn(credentialId: string): boolean {
    return this.#withdrawn.has(credentialId);
  }

  expired(entry: { readonly expiresAt: number }): boolean {
    return entry.expiresAt <= this.now();
  }

  #sweep(): void {
    const now = this.now();
    for (const [id, r] of this.#requests) if (r.expiresAt <= now) this.#requests.delete(id);
    for (const [c, e] of this.#codes) if (e.expiresAt <= now) this.#codes.delete(c);
    for (const [id, until] of this.#withdrawn) if (until <= now) this.#withdrawn.delete(id);
  }
}
