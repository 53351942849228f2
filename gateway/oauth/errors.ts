/**
 * OAuth-shaped errors (RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 8707 §2): `{ error, error_description }`
 * with the status the RFCs give, from the MCP SDK's error classes; and the redirect that carries an
 * error back to a client's verified redirect URI (RFC 6749 §4.1.2.1, with `iss` of RFC 9207).
 */
import type { FastifyReply } from 'fastify';
import { OAuthError } from '@modelcontextprotocol/sdk/server/auth/errors.js';

export { InvalidClientError, InvalidClientMetadataError, InvalidGrantError, InvalidRequestError, InvalidTargetError, AccessDeniedError, UnsupportedGrantTypeError, UnsupportedResponseTypeError } from '@modelcontextprotocol/sdk/server/auth/errors.js';

/** The status of an error code: 401 for client authentication, else 400. */
function statusOf(error: OAuthError): number {
  return error.errorCode === 'invalid_client' ? 401 : error.errorCode === 'access_denied' ? 403 : 400;
}

/** Answers an OAuth error as JSON, never cached. */
export function sendOAuthError(reply: FastifyReply, error: OAuthError): FastifyReply {
  return reply.code(statusOf(error)).header('cache-control', 'no-store').type('application/json').send(error.toResponseObject());
}

/** Sends the browser back to the client's (already verified) redirect URI with an error. */
export function redirectError(reply: FastifyReply, redirectUri: string, error: OAuthError, state: string | undefined, issuer: string): FastifyReply {
  const url = new URL(redirectUri);
  url.searchParams.set('error', error.errorCode);
  url.searchParams.set('error_description', error.message);
  if (state !== undefined) url.searchParams.set('state', state);
  url.searchParams.set('iss', issuer);
  return reply.code(302).header('location', url.href).header('cache-control', 'no-store').send();
}

/** RFC 7591 §3.2.2: a redirect URI the server will not register. */
export class InvalidRedirectUriError extends OAuthError {
  static override errorCode = 'invalid_redirect_uri';
}

export { OAuthError };
