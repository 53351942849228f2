/**
 * Gatehouse as an OAuth 2.0 protected resource (RFC 9728, as MCP's authorization asks): every 401
 * carries `WWW-Authenticate: Bearer resource_metadata="…"`, and the metadata document is served
 * on the gateway's public list at `/.well-known/oauth-protected-resource` (the gateway) and
 * `/.well-known/oauth-protected-resource/mcp` (the MCP endpoint). No authorization server is named
 * unless `GATEHOUSE_OAUTH_ISSUER` is set: the bearer is the agent credential an operator issued.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Problem } from './problems';

export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource';

/** The URL a client reached the gateway at: the (already checked) Host header, or `GATEHOUSE_PUBLIC_URL`. */
function baseUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  return publicUrl ?? `${request.protocol}://${request.host}`;
}

/** The metadata URL for what a request asked for: the MCP endpoint's own, else the gateway's. */
export function resourceMetadataUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  const path = (request.routeOptions.url ?? request.url.split('?')[0] ?? '').startsWith('/mcp') ? `${PROTECTED_RESOURCE_PATH}/mcp` : PROTECTED_RESOURCE_PATH;
  return `${baseUrl(request, publicUrl)}${path}`;
}

/** `WWW-Authenticate` of a 401: the scheme, the metadata URL, and `invalid_token` when a token was sent (RFC 6750). */
export function bearerChallenge(request: FastifyRequest, problem: Problem, publicUrl: string | undefined): string {
  const sent = typeof request.headers.authorization === 'string';
  const quoted = (s: string) => s.replace(/["\\]/g, '').slice(0, 200);
  const parts = [`resource_metadata="${resourceMetadataUrl(request, publicUrl)}"`];
  if (sent) parts.push('error="invalid_token"', `error_description="${quoted(problem.message)}"`);
  return `Bearer ${parts.join(', ')}`;
}

export interface ProtectedResourceOptions {
  /** The gateway's public base URL when clients reach it through a proxy. @default from the request */
  readonly publicUrl?: string;
  /** Authorization servers that issue tokens for this resource. @default none */
  readonly authorizationServers?: readonly string[];
}

/** Registers both metadata documents on the public list. */
export function registerProtectedResource(app: FastifyInstance, o: ProtectedResourceOptions): void {
  const document = (request: FastifyRequest, path: string) => ({
    resource: `${baseUrl(request, o.publicUrl)}${path}`,
    ...(o.authorizationServers && o.authorizationServers.length > 0 ? { authorization_servers: o.authorizationServers } : {}),
    bearer_methods_supported: ['header'],
    resource_name: 'Gatehouse',
  });
  app.get(PROTECTED_RESOURCE_PATH, { config: { public: true } }, async (request) => document(request, ''));
  app.get(`${PROTECTED_RESOURCE_PATH}/mcp`, { config: { public: true } }, async (request) => document(request, '/mcp'));
}
