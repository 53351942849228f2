/**
 * Gatehouse's own OAuth 2.1 authorization server for `/mcp`, on the gateway's public list: metadata
 * (RFC 8414), dynamic client registration (RFC 7591), the authorization code flow with PKCE (S256
 * only) and resource indicators (RFC 8707), consent by an operator (`authorize.ts`). The access
 * token is an agent credential signed by the operator's key and bound to the resource, so identity,
 * policies, caps and revocation are those of every agent credential (`../auth.ts`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RateLimiter } from '../limits';
import type { RevocationStore } from '../../audit/credentials';
import type { Keyset } from '../../policies/trust';
import { registerAuthorize } from './authorize';
import { registerRegistration } from './registration';
import { OAuthStore } from './store';
import { registerToken } from './token';

export { OAUTH, AS_METADATA_PATH } from './registration';
export { ExternalIssuer, readCredentialsFile } from './external';
export { OAuthStore } from './store';

export interface OAuthServerOptions {
  readonly keyset: Keyset;
  readonly revocations: Pick<RevocationStore, 'isRevoked'>;
  readonly publicUrl?: string;
  /** @default a new store */
  readonly store?: OAuthStore;
  /**
   * Registrations and authorization requests per client address: these routes are public and each
   * one holds memory, so one address may not fill the store. @default 1 a second, a burst of 60
   */
  readonly perAddress?: { readonly perSecond: number; readonly burst: number };
}

/** Registers the authorization server's routes; returns its store (the gatekeeper asks it what was withdrawn). */
export function registerOAuthServer(app: FastifyInstance, o: OAuthServerOptions): OAuthStore {
  const store = o.store ?? new OAuthStore();
  const addresses = new RateLimiter(o.perAddress?.perSecond ?? 1, o.perAddress?.burst ?? 60);
  const limit = async (request: FastifyRequest): Promise<void> => addresses.take(`address ${request.ip}`);
  registerRegistration(app, store, o.publicUrl, limit);
  registerAuthorize(app, { store, keyset: o.keyset, revocations: o.revocations, publicUrl: o.publicUrl, limit });
  registerToken(app, store);
  return store;
}
