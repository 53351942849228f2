/**
 * Gatehouse as an OAuth 2.0 protected resource (RFC 9728, as MCP's authorization asks): every 401
 * carries `WWW-Authenticate: Bearer resource_metadata="…"`, and the metadata document is served
 * on the gateway's public list at `/.well-known/oauth-protected-resource` (the gateway) and
 * `/.well-known/oauth-protected-resource/mcp` (the MCP endpoint). The authorization server it names
 * is `GATEHOUSE_OAUTH_ISSUER` when set, else the gateway's own (`gateway/oauth`, at the gateway's
 * base URL); a bearer may also be the agent credential an operator issued by hand.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LOOPBACK_HOSTS } from './origin';
import type { Problem } from './problems';

export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource';

/**
 * The URL a client reached the gateway at: `GATEHOUSE_PUBLIC_URL`, else the (already checked) Host
 * header — but on a loopback name with the port the connection reached, not the one the header
 * claims: no proxy stands in front there, and a token bound to another local gateway's `/mcp` would
 * otherwise pass for this one's by naming that gateway's port.
 */
export function baseUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl;
  const name = request.hostname.toLowerCase();
  if ((LOOPBACK_HOSTS as readonly string[]).includes(name)) return `${request.protocol}://${name}:${request.socket.localPort}`;
  return `${request.protocol}://${request.host}`;
}

function isMcp(request: FastifyRequest): boolean {
  return (request.routeOptions.url ?? request.url.split('?')[0] ?? '').startsWith('/mcp');
}

/** The metadata URL for what a request asked for: the MCP endpoint's own, else the gateway's. */
export function resourceMetadataUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  return `${baseUrl(request, publicUrl)}${PROTECTED_RESOURCE_PATH}${isMcp(request) ? '/mcp' : ''}`;
}

/** The resource (RFC 8707) a request is for, as its metadata names it: `<base>/mcp` or `<base>`. */
export function requestResource(request: FastifyRequest, publicUrl: string | undefined): string {
  return `${baseUrl(request, publicUrl)}${isMcp(request) ? '/mcp' : ''}`;
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
  /** Authorization servers that issue tokens for this resource. @default the gateway's own, at its base URL */
  readonly authorizationServers?: readonly string[];
}

/** Registers both metadata documents on the public list. */
export function registerProtectedResource(app: FastifyInstance, o: ProtectedResourceOptions): void {
  const document = (request: FastifyRequest, path: string) => ({
    resource: `${baseUrl(request, o.publicUrl)}${path}`,
    authorization_servers: o.authorizationServers && o.authorizationServers.length > 0 ? o.authorizationServers : [baseUrl(request, o.publicUrl)],
    bearer_methods_supported: ['header'],
    resource_name: 'Gatehouse',
  });
  app.get(PROTECTED_RESOURCE_PATH, { config: { public: true } }, async (request) => document(request, ''));
  app.get(`${PROTECTED_RESOURCE_PATH}/mcp`, { config: { public: true } }, async (request) => document(request, '/mcp'));
}
