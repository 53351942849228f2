/**
 * The authorization endpoint and the operator's consent. An agent may register a client and open
 * the authorization URL, but it cannot grant anything: a request waits until an operator answers
 * it with an agent credential signed by an operator key (`gatehouse mcp authorize <request>
 * --agent <name> --owner <who>`), bound to this request (`oauth_request`) and to the resource asked
 * for (its audience). Only then does the waiting page send the browser to the client's registered
 * redirect URI with a one-time code. The consent endpoint is public: the operator's signature is
 * its authentication, checked against the keyset like every agent credential (and the revocation list).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RevocationStore } from '../../audit/credentials';
import { verifyAgentCredential } from '../../client/trust/credentials';
import type { Keyset } from '../../policies/trust';
import { baseUrl } from '../protected-resource';
import { AccessDeniedError, InvalidRequestError, InvalidTargetError, OAuthError, UnsupportedResponseTypeError, redirectError, sendOAuthError } from './errors';
import { OAUTH } from './registration';
import type { AuthorizationRequest, OAuthStore } from './store';

export interface AuthorizeDeps {
  readonly store: OAuthStore;
  readonly keyset: Keyset;
  readonly revocations: Pick<RevocationStore, 'isRevoked'>;
  readonly publicUrl: string | undefined;
}

/** A pending request is held until it expires: what it echoes back is bounded. */
const MAX_STATE = 2000;
const MAX_SCOPE = 1000;

const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

function one(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (Array.isArray(v)) throw new InvalidRequestError(`\`${name}\` is given more than once`);
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page a browser waits on: what asks, and the command an operator runs to answer. */
function waitingPage(reply: FastifyReply, request: AuthorizationRequest, clientName: string): FastifyReply {
  const wait = `${OAUTH.wait}?request=${request.id}`;
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2;url=${wait}"><title>Gatehouse: waiting for an operator</title></head>
<body><h1>Waiting for an operator</h1>
<p><strong>${escapeHtml(clientName)}</strong> asks to act as an agent on <code>${escapeHtml(request.resource)}</code>.</p>
<p>An operator grants it, naming the agent and its owner:</p>
<pre>gatehouse mcp authorize <span id="request">${request.id}</span> --agent &lt;agent&gt; --owner &lt;person&gt;</pre>
<p>This page moves on by itself once it is granted (the request expires at ${new Date(request.expiresAt).toISOString()}).</p></body></html>`;
  return reply.code(200).header('cache-control', 'no-store').header('content-security-policy', "default-src 'none'").type('text/html; charset=utf-8').send(html);
}

export function registerAuthorize(app: FastifyInstance, deps: AuthorizeDeps): void {
  const { store } = deps;
  const mcpResource = (request: FastifyRequest) => `${baseUrl(request, deps.publicUrl)}/mcp`;

  app.get(OAUTH.authorize, { config: { public: true } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const issuer = baseUrl(request, deps.publicUrl);
    // Until client and redirect URI are verified, an error is shown here, never redirected (RFC 6749 §4.1.2.1).
    let clientId: string | undefined;
    let redirectUri: string | undefined;
    try {
      clientId = one(query, 'client_id');
      redirectUri = one(query, 'redirect_uri');
    } catch (err) {
      return sendOAuthError(reply, err as OAuthError);
    }
    const client = clientId ? store.client(clientId) : undefined;
    if (!client) return sendOAuthError(reply, new InvalidRequestError(clientId ? `unknown client \`${clientId.slice(0, 100)}\`` : '`client_id` is required'));
    if (!redirectUri || !client.redirectUris.includes(redirectUri)) return sendOAuthError(reply, new InvalidRequestError(`\`redirect_uri\` must be one the client registered, got \`${(redirectUri ?? '').slice(0, 200)}\``));
    let state: string | undefined;
    try {
      state = one(query, 'state');
      if (state !== undefined && state.length > MAX_STATE) {
        state = undefined;
        throw new InvalidRequestError(`\`state\` is at most ${MAX_STATE} characters`);
      }
      if (one(query, 'response_type') !== 'code') throw new UnsupportedResponseTypeError('`response_type` must be `code`');
      const challenge = one(query, 'code_challenge');
      if (one(query, 'code_challenge_method') !== 'S256') throw new InvalidRequestError('`code_challenge_method` must be `S256`');
      if (!challenge || !CHALLENGE.test(challenge)) throw new InvalidRequestError('`code_challenge` must be the base64url sha-256 of the verifier');
      const resource = one(query, 'resource') ?? mcpResource(request);
      if (resource !== mcpResource(request)) throw new InvalidTargetError(`\`resource\` must be \`${mcpResource(request)}\`, got \`${resource.slice(0, 200)}\``);
      const scope = one(query, 'scope');
      if (scope !== undefined && scope.length > MAX_SCOPE) throw new InvalidRequestError(`\`scope\` is at most ${MAX_SCOPE} characters`);
      const pending = store.request({ clientId: client.clientId, redirectUri, codeChallenge: challenge, resource, ...(state !== undefined ? { state } : {}), ...(scope !== undefined ? { scope } : {}) });
      return waitingPage(reply, pending, client.clientName);
    } catch (err) {
      if (err instanceof OAuthError) return redirectError(reply, redirectUri, err, state, issuer);
      throw err;
    }
  });

  // The browser polls here: once an operator consented, the one code goes to the redirect URI.
  app.get(OAUTH.wait, { config: { public: true } }, async (request, reply) => {
    const id = (request.query as Record<string, unknown>).request;
    const pending = typeof id === 'string' ? store.pending(id) : undefined;
    if (!pending) return sendOAuthError(reply, new InvalidRequestError('no such authorization request, or it expired: start again from the client'));
    if (!pending.consent) return waitingPage(reply, pending, store.client(pending.clientId)?.clientName ?? pending.clientId);
    const code = store.issueCode(pending);
    if (code === undefined) return sendOAuthError(reply, new InvalidRequestError('this authorization request already gave its code'));
    const url = new URL(pending.redirectUri);
    url.searchParams.set('code', code);
    if (pending.state !== undefined) url.searchParams.set('state', pending.state);
    url.searchParams.set('iss', baseUrl(request, deps.publicUrl));
    return reply.code(302).header('location', url.href).header('cache-control', 'no-store').send();
  });

  // What the operator's CLI shows before signing: who asks, for what.
  app.get(`${OAUTH.requests}/:id`, { config: { public: true } }, async (request, reply) => {
    const pending = store.pending((request.params as { id: string }).id);
    if (!pending) return sendOAuthError(reply, new InvalidRequestError('no such authorization request, or it expired'));
    const client = store.client(pending.clientId);
    return reply.header('cache-control', 'no-store').send({
      request_id: pending.id,
      client_id: pending.clientId,
      client_name: client?.clientName ?? null,
      redirect_uri: pending.redirectUri,
      resource: pending.resource,
      expires_at: new Date(pending.expiresAt).toISOString(),
      status: pending.consent ? 'granted' : 'pending',
    });
  });

  app.post(OAUTH.consent, { config: { public: true } }, async (request, reply) => {
    try {
      const body = request.body as { credential?: unknown } | undefined;
      const check = await verifyAgentCredential(body?.credential, deps.keyset);
      // Only an operator key signs agent credentials: this is the operator's consent, or nothing.
      if (!check.ok) throw new AccessDeniedError(`the consent is not an operator-signed agent credential: ${check.message}`);
      const credential = check.credential;
      if (credential.oauthRequest === undefined || credential.resource === undefined) throw new AccessDeniedError('the credential is not bound to an authorization request and a resource: issue it with `gatehouse mcp authorize`');
      const pending = store.pending(credential.oauthRequest);
      if (!pending) throw new InvalidRequestError(`no such authorization request \`${credential.oauthRequest}\`, or it expired`);
      if (pending.consent) throw new InvalidRequestError(`authorization request \`${pending.id}\` was answered already`);
      if (credential.resource !== pending.resource) throw new InvalidTargetError(`the credential is bound to \`${credential.resource}\`, the request asks for \`${pending.resource}\``);
      if (await deps.revocations.isRevoked(credential.agentId, credential.issuedAt)) throw new AccessDeniedError(`the agent credential of \`${credential.agentId}\` is revoked`);
      pending.consent = { credential: body!.credential as string, agentId: credential.agentId, owner: credential.owner, credentialId: credential.credentialId, expiresAt: credential.expiresAt };
      return reply.header('cache-control', 'no-store').send({ request_id: pending.id, agent_id: credential.agentId, owner: credential.owner, resource: pending.resource, status: 'granted' });
    } catch (err) {
      if (err instanceof OAuthError) return sendOAuthError(reply, err);
      throw err;
    }
  });
}
