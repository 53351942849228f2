/**
 * Gatehouse's own OAuth 2.1 authorization server for `/mcp`, on the gateway's public list: metadata
 * (RFC 8414), dynamic client registration (RFC 7591), the authorization code flow with PKCE (S256
 * only) and resource indicators (RFC 8707), consent by an operator (`authorize.ts`). The access
 * token is an agent credential signed by the operator's key and bound to the resource, so identity,
 * policies, caps and revocation are those of every agent credential (`../auth.ts`).
 */
import type { FastifyInstance } from 'fastify';
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
}

/** Registers the authorization server's routes; returns its store (the gatekeeper asks it what was withdrawn). */
export function registerOAuthServer(app: FastifyInstance, o: OAuthServerOptions): OAuthStore {
  const store = o.store ?? new OAuthStore();
  registerRegistration(app, store, o.publicUrl);
  registerAuthorize(app, { store, keyset: o.keyset, revocations: o.revocations, publicUrl: o.publicUrl });
  registerToken(app, store);
  return store;
}
