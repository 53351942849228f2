/**
 * Authentication: `Authorization: Bearer <agent credential>`, verified against the keyset's
 * operator keys (`verifyAgentCredential`) and the revocation list. A hook runs it in front of
 * every route but an explicit public list, decided on the route the router matched (the decoded
 * path), never on the raw URL: `/%76%31/…`, `//v1`, `/V1/` and dot segments are authenticated like
 * any other spelling, and a path that matches no route needs a credential too (a 404 tells an
 * unauthenticated caller nothing). `agentId` and `owner` come from the credential only.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RevocationStore } from '../audit/credentials';
import { verifyAgentCredential, type AgentCredential } from '../client/trust/credentials';
import type { Keyset } from '../policies/trust';
import { Problem } from './problems';

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

/** The keyset and the revocation list, plus a cache of verified signatures. */
export class Gatekeeper {
  readonly #keyset: Keyset;
  readonly #revocations: Pick<RevocationStore, 'isRevoked'>;
  readonly #verified = new Map<string, AgentCredential>();
  readonly #now: () => number;

  constructor(keyset: Keyset, revocations: Pick<RevocationStore, 'isRevoked'>, now: () => number = Date.now) {
    this.#keyset = keyset;
    this.#revocations = revocations;
    this.#now = now;
  }

  /** The identity of a bearer token; throws a 401 problem naming the failed check. */
  async check(token: string | undefined): Promise<AgentIdentity> {
    const credential = await this.#verify(token);
    if (await this.#revocations.isRevoked(credential.agentId, credential.issuedAt)) {
      throw new Problem('unauthorized', `the agent credential of \`${credential.agentId}\` is revoked`, { rule: 'credential.revoked' });
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

  /** Signature and claims, cached per token until it expires (the keyset is fixed for the process). */
  async #verify(token: string | undefined): Promise<AgentCredential> {
    const cached = token === undefined ? undefined : this.#verified.get(token);
    if (cached && Date.parse(cached.expiresAt) > this.#now()) return cached;
    const check = await verifyAgentCredential(token, this.#keyset, this.#now());
    if (!check.ok) throw new Problem('unauthorized', check.message, { rule: check.rule });
    if (this.#verified.size >= 10_000) this.#verified.clear();
    this.#verified.set(token!, check.credential);
    return check.credential;
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
  const agent = await request.server.gatekeeper.check(token);
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
