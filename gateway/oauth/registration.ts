/**
 * The authorization server's metadata (RFC 8414) and dynamic client registration (RFC 7591): every
 * client is public (PKCE with S256, no secret), and its redirect URIs are https, a loopback http
 * address, or a private-use scheme (a desktop host's `cursor://…`), with no fragment (OAuth 2.1 §2.3).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OAuthClientMetadataSchema } from '@modelcontextprotocol/sdk/shared/auth.js';
import { baseUrl } from '../protected-resource';
import { InvalidClientMetadataError, InvalidRedirectUriError, OAuthError, sendOAuthError } from './errors';
import type { OAuthStore } from './store';

export const AS_METADATA_PATH = '/.well-known/oauth-authorization-server';
export const OAUTH = { authorize: '/oauth/authorize', wait: '/oauth/authorize/wait', token: '/oauth/token', register: '/oauth/register', requests: '/oauth/requests', consent: '/oauth/consent' } as const;

/** A registered client is held in memory until evicted: its URIs are bounded, each and together. */
const MAX_REDIRECT_URI = 2000;
const MAX_REDIRECT_URIS = 4000;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Why a redirect URI cannot be registered, or undefined. */
export function refusedRedirectUri(text: string): string | undefined {
  if (text.length > MAX_REDIRECT_URI) return `a redirect URI is at most ${MAX_REDIRECT_URI} characters`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `\`${text.slice(0, 200)}\` is not an absolute URI`;
  }
  if (url.hash !== '' || text.includes('#')) return `\`${text.slice(0, 200)}\` has a fragment`;
  if (['javascript:', 'data:', 'vbscript:', 'file:'].includes(url.protocol)) return `\`${text.slice(0, 200)}\` uses a forbidden scheme`;
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) return `\`${text.slice(0, 200)}\` is plain http to a host that is not loopback`;
  return undefined;
}

/** The metadata document, for the issuer a request reached. */
export function authorizationServerMetadata(issuer: string): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}${OAUTH.authorize}`,
    token_endpoint: `${issuer}${OAUTH.token}`,
    registration_endpoint: `${issuer}${OAUTH.register}`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    authorization_response_iss_parameter_supported: true,
  };
}

export function registerRegistration(app: FastifyInstance, store: OAuthStore, publicUrl: string | undefined): void {
  const issuer = (request: FastifyRequest) => baseUrl(request, publicUrl);
  app.get(AS_METADATA_PATH, { config: { public: true } }, async (request) => authorizationServerMetadata(issuer(request)));

  app.post(OAUTH.register, { config: { public: true } }, async (request, reply) => {
    try {
      const parsed = OAuthClientMetadataSchema.safeParse(request.body ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new InvalidClientMetadataError(`\`${issue?.path.join('.') || 'body'}\`: ${issue?.message ?? 'invalid'}`);
      }
      const m = parsed.data;
      if (m.redirect_uris.length === 0 || m.redirect_uris.length > 10) throw new InvalidClientMetadataError('`redirect_uris` must list 1 to 10 URIs');
      if (m.redirect_uris.join('').length > MAX_REDIRECT_URIS) throw new InvalidClientMetadataError(`\`redirect_uris\` hold at most ${MAX_REDIRECT_URIS} characters together`);
      for (const uri of m.redirect_uris) {
        const why = refusedRedirectUri(uri);
        if (why) throw new InvalidRedirectUriError(why);
      }
      if (m.grant_types && !m.grant_types.includes('authorization_code')) throw new InvalidClientMetadataError('`grant_types` must include `authorization_code`');
      if (m.response_types && !m.response_types.every((t) => t === 'code')) throw new InvalidClientMetadataError('`response_types` may only be `code`');
      const name = (m.client_name ?? 'unnamed client').slice(0, 200);
      const client = store.register(name, m.redirect_uris);
      return reply.code(201).header('cache-control', 'no-store').send({
        client_id: client.clientId,
        client_id_issued_at: client.issuedAt,
        client_name: client.clientName,
        redirect_uris: client.redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      });
    } catch (err) {
      if (err instanceof OAuthError) return sendOAuthError(reply, err);
      throw err;
    }
  });
}
