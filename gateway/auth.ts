/**
 * Authentication: `Authorization: Bearer <agent credential>`, verified against the keyset's
 * operator keys (`verifyAgentCredential`) and the revocation list. A hook runs it in front of
 * every route but an explicit public list, decided on the route the router matched (the decoded
 * path), never on the raw URL: `/%76%31/…`, `//v1`, `/V1/` and dot segments are authenticated like
 * any other spelling, and a path that matches no route needs a credential too (a 404 tells an
 * unauthenticated caller nothing). `agentId` and `owner` come from the credential only.
 *
 * A credential issued through the gateway's OAuth consent names one resource besides `gatehouse`
 * (RFC 8707): it is accepted only on that resource (`<base>/mcp`), never on `/v1` or on another
 * gateway's. A bearer that is not an agent credential is tried against the external authorization
 * server when one is configured (`oauth/external.ts`), which maps it to an agent credential.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RevocationStore } from '../audit/credentials';
import { decodeProtectedHeader } from 'jose';
import { CREDENTIAL_TYPE, verifyAgentCredential, type AgentCredential } from '../client/trust/credentials';
import type { Keyset } from '../policies/trust';
import type { ExternalIssuer } from './oauth/external';
import { Problem } from './problems';
import { requestResource } from './protected-resource';

/** The caller, as its verified credential names it. */
export interface AgentIdentity {
  readonly agentId: string;
  readonly owner: string;
  readonly policies: readonly string[];
  /** The credential itself: sessions start with it. */
  readonly token: string;
  readonly credentialId: string;
  readonly issuedAt: string;
  readonly expiresAt: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook on every route but the public ones. */
    agent: AgentIdentity;
  }
  interface FastifyContextConfig {
    /** A route that needs no credential (the explicit public list: health, the OpenAPI document). */
    public?: boolean;
  }
  interface FastifyInstance {
    /** What {@link authenticate} checks credentials against. */
    gatekeeper: Gatekeeper;
  }
}

export interface GatekeeperOptions {
  /** The gateway's public base URL, for the resource a request is for. @default from each request's Host */
  readonly publicUrl?: string;
  /** An external authorization server whose tokens map to agent credentials. @default none */
  readonly external?: ExternalIssuer;
  /** Credentials the gateway's own authorization server withdrew (a replayed code). */
  readonly isWithdrawn?: (credentialId: string) => boolean;
  /** The clock credentials' expiry is checked against (tests control it). @default Date.now */
  readonly now?: () => number;
  /** How many verified tokens are kept: past it the cache starts again empty (memory stays bounded). @default 10,000 */
  readonly maxCachedCredentials?: number;
}

/** The keyset and the revocation list, plus a cache of verified signatures. */
export class Gatekeeper {
  readonly #keyset: Keyset;
  readonly #revocations: Pick<RevocationStore, 'isRevoked'>;
  readonly #verified = new Map<string, AgentCredential>();
  readonly #now: () => number;
  readonly options: GatekeeperOptions;

  constructor(keyset: Keyset, revocations: Pick<RevocationStore, 'isRevoked'>, options: GatekeeperOptions = {}) {
    this.#keyset = keyset;
    this.#revocations = revocations;
    this.#now = options.now ?? Date.now;
    this.options = options;
  }

  /**
   * The identity of a bearer token presented for `resource` (undefined: any resource, as the
   * worker sees it); throws a 401 problem naming the failed check.
   */
  async check(token: string | undefined, resource?: string): Promise<AgentIdentity> {
    const external = this.options.external;
    if (external && token !== undefined && !isAgentCredential(token)) {
      // An external token stands for an agent credential the operator configured; that is checked below like any other.
      return this.#checkCredential(await external.verify(token, resource), undefined);
    }
    return this.#checkCredential(token, resource);
  }

  async #checkCredential(token: string | undefined, resource: string | undefined): Promise<AgentIdentity> {
    const credential = await this.#verify(token);
    if (await this.#revocations.isRevoked(credential.agentId, credential.issuedAt)) {
      throw new Problem('unauthorized', `the agent credential of \`${credential.agentId}\` is revoked`, { rule: 'credential.revoked' });
    }
    if (credential.resource !== undefined && resource !== undefined && credential.resource !== resource) {
      throw new Problem('unauthorized', `the agent credential is bound to \`${credential.resource}\`, not to \`${resource}\``, { rule: 'credential.audience' });
    }
    if (this.options.isWithdrawn?.(credential.credentialId)) {
      throw new Problem('unauthorized', 'the agent credential was withdrawn: its authorization code was used twice', { rule: 'credential.withdrawn' });
    }
    return {
      agentId: credential.agentId,
      owner: credential.owner,
      policies: credential.policies,
      token: token!,
      credentialId: credential.credentialId,
      issuedAt: credential.issuedAt,
      expiresAt: credential.expiresAt,
    };
  }

  /** How many verified tokens the cache holds (never more than `maxCachedCredentials`). */
  get cachedCredentials(): number {
    return this.#verified.size;
  }

  /** Signature and claims, cached per token until it expires (the keyset is fixed for the process). */
  async #verify(token: string | undefined): Promise<AgentCredential> {
    const cached = token === undefined ? undefined : this.#verified.get(token);
    if (cached && Date.parse(cached.expiresAt) > this.#now()) return cached;
    const check = await verifyAgentCredential(token, this.#keyset, this.#now());
    if (!check.ok) throw new Problem('unauthorized', check.message, { rule: check.rule });
    if (this.#verified.size >= (this.options.maxCachedCredentials ?? 10_000)) this.#verified.clear();
    this.#verified.set(token!, check.credential);
    return check.credential;
  }
}

/** True when a token's header says it is a Gatehouse agent credential (not yet verified). */
function isAgentCredential(token: string): boolean {
  try {
    return decodeProtectedHeader(token).typ === CREDENTIAL_TYPE;
  } catch {
    return false;
  }
}

/** The bearer token of a request, if it has one. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Authenticates a request and sets `request.agent`; throws a 401 problem otherwise. */
export async function authenticate(request: FastifyRequest): Promise<AgentIdentity> {
  const header = request.headers.authorization;
  const token = bearerToken(request);
  if (header !== undefined && token === undefined) throw new Problem('unauthorized', 'the `authorization` header must be `Bearer <agent credential>`', { rule: 'credential.malformed' });
  const gatekeeper = request.server.gatekeeper;
  const agent = await gatekeeper.check(token, requestResource(request, gatekeeper.options.publicUrl));
  request.agent = agent;
  return agent;
}

/**
 * Installs the gatekeeper and the hook that authenticates every request but those routed to a
 * route registered with `config: { public: true }`. `onRequest` runs after routing, so the
 * decision is on the route found for the decoded path; unmatched paths are not public.
 */
export function registerAuth(app: FastifyInstance, gatekeeper: Gatekeeper): void {
  app.decorate('gatekeeper', gatekeeper);
  app.decorateRequest('agent', null as unknown as AgentIdentity);
  app.addHook('onRequest', async (request) => {
    if (isPublicRoute(request)) return;
    await authenticate(request);
  });
}

/** True only for a matched route registered as public (the 404 route never is). */
export function isPublicRoute(request: FastifyRequest): boolean {
  return request.routeOptions.url !== undefined && request.routeOptions.config.public === true;
}
