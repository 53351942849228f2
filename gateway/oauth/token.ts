/**
 * The token endpoint (OAuth 2.1 §3.2, form-encoded): a code turns into the agent credential the
 * operator consented with, once, for the client it was issued to, with the redirect URI and PKCE
 * verifier of its request and for its resource. A code is spent by its first exchange, good or
 * bad; a second exchange of a code that was granted withdraws the credential it gave (§4.1.3).
 */
import type { FastifyInstance } from 'fastify';
import { InvalidClientError, InvalidGrantError, InvalidRequestError, InvalidTargetError, OAuthError, UnsupportedGrantTypeError, sendOAuthError } from './errors';
import { OAUTH } from './registration';
import { s256, type OAuthStore } from './store';

const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** Form fields; a field given twice is an error (RFC 6749 §3.2). */
function fields(body: unknown): Record<string, string> {
  if (typeof body !== 'object' || body === null) throw new InvalidRequestError('the body must be `application/x-www-form-urlencoded`');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (Array.isArray(v)) throw new InvalidRequestError(`\`${k}\` is given more than once`);
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

export function registerToken(app: FastifyInstance, store: OAuthStore): void {
  app.register(async (scope) => {
    // Form bodies here only: the rest of the gateway takes JSON.
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
      const params = new URLSearchParams(body as string);
      const out: Record<string, string | string[]> = {};
      for (const key of new Set(params.keys())) {
        const all = params.getAll(key);
        out[key] = all.length === 1 ? all[0]! : all;
      }
      done(null, out);
    });
    scope.post(OAUTH.token, { config: { public: true } }, async (request, reply) => {
      try {
        const f = fields(request.body);
        if (f.grant_type !== 'authorization_code') throw new UnsupportedGrantTypeError(`\`grant_type\` must be \`authorization_code\`, got \`${(f.grant_type ?? '').slice(0, 100)}\``);
        const client = f.client_id ? store.client(f.client_id) : undefined;
        if (!client) throw new InvalidClientError(f.client_id ? `unknown client \`${f.client_id.slice(0, 100)}\`` : '`client_id` is required');
        const entry = f.code ? store.code(f.code) : undefined;
        if (!entry || entry.request.clientId !== client.clientId) throw new InvalidGrantError('the code is unknown, or was issued to another client');
        const consent = entry.request.consent!;
        if (entry.used) {
          // A replay: whoever used it first may not be the client; the credential it gave is refused from now on.
          if (entry.granted) store.withdraw(consent.credentialId, Date.parse(consent.expiresAt));
          throw new InvalidGrantError('the code was used already; the token it gave is withdrawn');
        }
        entry.used = true;
        if (store.expired(entry)) throw new InvalidGrantError('the code has expired');
        if (f.redirect_uri !== entry.request.redirectUri) throw new InvalidGrantError('`redirect_uri` is not the one of the authorization request');
        if (!f.code_verifier || !VERIFIER.test(f.code_verifier) || s256(f.code_verifier) !== entry.request.codeChallenge) throw new InvalidGrantError('the `code_verifier` does not match the code challenge');
        if (f.resource !== undefined && f.resource !== entry.request.resource) throw new InvalidTargetError(`\`resource\` must be \`${entry.request.resource}\`, the one the code was granted for`);
        entry.granted = true;
        store.clientUsed(client.clientId);
        const expiresIn = Math.max(0, Math.floor((Date.parse(consent.expiresAt) - Date.now()) / 1000));
        return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send({ access_token: consent.credential, token_type: 'Bearer', expires_in: expiresIn });
      } catch (err) {
        if (err instanceof OAuthError) return sendOAuthError(reply, err);
        throw err;
      }
    });
  });
}
