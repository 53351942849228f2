/**
 * MCP authorization end to end: the MCP TypeScript SDK's own client auth (`OAuthClientProvider`)
 * connects to `/mcp` with no token pasted — discovery from the 401, dynamic registration, PKCE,
 * the operator's grant by the real `gatehouse mcp authorize` process — and then lists tools and
 * makes gated calls as the agent the operator named. The token is bound to `/mcp` and revocable
 * like every agent credential; the static bearer keeps working. Bad input gets OAuth-shaped errors.
 * An external authorization server (a tiny `jose` issuer with a real JWKS on 127.0.0.1) is
 * verified and its claim mapped to a configured agent.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { RevocationStore } from '../../audit/credentials';
import { userKeyDir, writeKeyFile } from '../../client/trust/key-files';
import { parseJsonOutput, runCli } from '../e2e/processes';
import { cliEnv } from '../operator/cli-env';
import { eventually } from '../support/eventually';
import { testTrust } from '../support/trust';
import { DELETE_ARGS } from '../mcp/stack';
import { ExternalIssuer } from '../../gateway/oauth';
import { startTestIssuer } from './issuer';
import { authorize, codeFor, pkce, REDIRECT, register, requestIdOf, startOAuthStack, token, wait, type OAuthStack } from './kit';

let stack: OAuthStack;
let root: string;
before(async () => {
  stack = await startOAuthStack('oauth_flow');
  root = await mkdtemp(join(tmpdir(), 'gatehouse-oauth-'));
});
after(async () => {
  await stack?.close();
  await rm(root, { recursive: true, force: true });
});

/** A host's OAuth state in memory; its "browser" is the test. */
class HostProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  authorizationUrl: URL | undefined;
  readonly redirectUrl = REDIRECT;
  readonly clientMetadata: OAuthClientMetadata = { client_name: 'sdk host', redirect_uris: [REDIRECT], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  state(): string {
    return 'host-state-1';
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }
  codeVerifier(): string {
    return this.verifier;
  }
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<{ status: string; [k: string]: unknown }> {
  const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
  return r.structuredContent as { status: string };
}

describe('a stock MCP client connects by OAuth', () => {
  it('discovers, registers, waits for the operator, gets a token bound to /mcp, and makes gated calls as the agent named', async () => {
    const provider = new HostProvider();
    const first = new StreamableHTTPClientTransport(stack.mcpUrl, { authProvider: provider });
    await assert.rejects(new Client({ name: 'sdk-host', version: '1.0.0' }).connect(first), UnauthorizedError);
    const authUrl = provider.authorizationUrl!;
    assert.equal(authUrl.origin + authUrl.pathname, `${stack.baseUrl}/oauth/authorize`);
    assert.equal(authUrl.searchParams.get('resource'), `${stack.baseUrl}/mcp`);
    assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.match(String((provider.info as { client_id: string }).client_id), /^client-/);

    // The host's browser opens the page: it waits for an operator and says which command grants it.
    const page = await fetch(authUrl, { redirect: 'manual' });
    const html = await page.text();
    assert.equal(page.status, 200);
    const id = /<span id="request">([A-Za-z0-9_-]+)<\/span>/.exec(html)![1]!;
    assert.match(html, /sdk host/);
    assert.equal((await wait(stack.baseUrl, id)).status, 200, 'no code before the operator grants');

    // The operator grants it with the real CLI, naming agent and owner.
    const env = { ...cliEnv(join(root, 'operator')), GATEHOUSE_URL: stack.baseUrl };
    writeKeyFile(userKeyDir(env), testTrust().operator);
    // Not at a terminal and without `--yes`, it shows nothing signed: it asks before it signs.
    const unasked = await runCli(['mcp', 'authorize', id, '--agent', 'oauth-bot', '--owner', 'eng-007'], env);
    assert.equal(unasked.code, 1);
    assert.match(unasked.stderr, /shows the request and asks before it signs: run it at a terminal, or pass `--yes`/);
    assert.equal((await wait(stack.baseUrl, id)).status, 200, 'still waiting');
    const granted = parseJsonOutput<{ agentId: string; owner: string; resource: string; clientName: string }>('mcp authorize', await runCli(['mcp', 'authorize', id, '--agent', 'oauth-bot', '--owner', 'eng-007', '--json', '--yes'], env));
    assert.deepEqual([granted.agentId, granted.owner, granted.resource, granted.clientName], ['oauth-bot', 'eng-007', `${stack.baseUrl}/mcp`, 'sdk host']);

    // Answering it again is a one-line error; nothing changes.
    const again = await runCli(['mcp', 'authorize', id, '--agent', 'other-bot', '--owner', 'eng-012', '--yes'], env);
    assert.equal(again.code, 1);
    assert.equal(again.stderr.trim(), `gatehouse: authorization request \`${id}\` was answered already`);

    const back = await wait(stack.baseUrl, id);
    assert.equal(back.status, 302);
    assert.equal(back.location!.origin + back.location!.pathname, REDIRECT);
    assert.equal(back.location!.searchParams.get('state'), 'host-state-1');
    assert.equal(back.location!.searchParams.get('iss'), stack.baseUrl);
    await first.finishAuth(back.location!.searchParams.get('code')!);
    assert.equal(provider.saved?.token_type, 'Bearer');

    const transport = new StreamableHTTPClientTransport(stack.mcpUrl, { authProvider: provider });
    const client = new Client({ name: 'sdk-host', version: '1.0.0' });
    await client.connect(transport);
    const rowsBefore = await stack.billingRows();
    try {
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'billing.deleteRecords'));
      const declared = await call(client, 'gatehouse_declare_intent', { intent: 'clean up last month\'s test billing records' });
      const sessionId = declared.sessionId as string;
      assert.equal((await call(client, 'billing.query', { testOnly: true, limit: 5 })).status, 'executed');
      assert.equal((await call(client, 'billing.deleteRecords', DELETE_ARGS)).status, 'held');
      assert.equal(await stack.billingRows(), rowsBefore);
      // The session is the named agent's, for its owner: identity came from the operator's credential.
      const row = await stack.h.audit.pool.query<{ agent_id: string; owner: string }>('SELECT agent_id, owner FROM sessions WHERE session_id = $1', [sessionId]);
      assert.deepEqual(row.rows[0], { agent_id: 'oauth-bot', owner: 'eng-007' });

      // Bound to /mcp: the same token is refused on /v1.
      const v1 = await fetch(`${stack.baseUrl}/v1/sessions/${sessionId}`, { headers: { authorization: `Bearer ${provider.saved!.access_token}` } });
      assert.equal(v1.status, 401);
      assert.equal(((await v1.json()) as { rule: string }).rule, 'credential.audience');

      // Revoked like any agent credential.
      await new RevocationStore(stack.h.audit.pool).revoke('oauth-bot', 'test-operator', 'oauth test');
      const revoked = await fetch(stack.mcpUrl, { method: 'POST', headers: { authorization: `Bearer ${provider.saved!.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) });
      assert.equal(revoked.status, 401);
      assert.equal(((await revoked.json()) as { rule: string }).rule, 'credential.revoked');
    } finally {
      await client.close();
    }
  });

  it('the static bearer credential keeps working beside it', async () => {
    const transport = new StreamableHTTPClientTransport(stack.mcpUrl, { requestInit: { headers: { authorization: `Bearer ${await testTrust().credential('static-bot', 'eng-012')}` } } });
    const client = new Client({ name: 'static', version: '1.0.0' });
    await client.connect(transport);
    assert.ok((await client.listTools()).tools.length > 0);
    await transport.terminateSession();
    await client.close();
  });
});

describe('bad input gets an OAuth error and nothing is granted', () => {
  const base = () => stack.baseUrl;

  it('registration: a redirect URI to a remote plain-http host, or with a fragment, is refused', async () => {
    for (const uri of ['http://evil.example.com/cb', 'https://host.example/cb#frag']) {
      const r = await register(base(), [uri]);
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_redirect_uri');
    }
    assert.equal((await register(base(), [])).body.error, 'invalid_client_metadata');
  });

  it('authorization: an unregistered redirect URI is an error page, never a redirect; a bad challenge or resource goes back as an error', async () => {
    const clientId = (await register(base())).body.client_id as string;
    const p = pkce();
    const good = { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: p.challenge, code_challenge_method: 'S256', state: 's' };
    const wrongRedirect = await authorize(base(), { ...good, redirect_uri: 'http://127.0.0.1:9/elsewhere' });
    assert.equal(wrongRedirect.status, 400);
    assert.equal(wrongRedirect.location, undefined);
    assert.equal(wrongRedirect.body.error, 'invalid_request');
    assert.equal((await authorize(base(), { ...good, client_id: 'client-nobody' })).body.error, 'invalid_request');
    for (const [params, error] of [
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ code_challenge: 'short' }, 'invalid_request'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ resource: 'http://127.0.0.1:1/mcp' }, 'invalid_target'],
    ] as const) {
      const r = await authorize(base(), { ...good, ...params });
      assert.equal(r.status, 302, JSON.stringify(params));
      assert.equal(r.location!.searchParams.get('error'), error);
      assert.equal(r.location!.searchParams.get('state'), 's');
      assert.equal(r.location!.searchParams.get('code'), null);
    }
  });

  it('token: wrong redirect URI, wrong verifier, another resource, an expired code, an unknown grant type', async () => {
    const cases: [string, (f: { clientId: string; code: string; verifier: string; resource: string }) => Record<string, string>, string][] = [
      ['wrong redirect', () => ({ redirect_uri: 'http://127.0.0.1:9/other' }), 'invalid_grant'],
      ['wrong verifier', () => ({ code_verifier: pkce().verifier }), 'invalid_grant'],
      ['another resource', () => ({ resource: 'http://127.0.0.1:1/mcp' }), 'invalid_target'],
      ['another client', () => ({ client_id: 'client-nobody' }), 'invalid_client'],
    ];
    for (const [what, change, error] of cases) {
      const f = await codeFor(base(), 'bad-input-bot', 'eng-012');
      const form = { grant_type: 'authorization_code', client_id: f.clientId, code: f.code, code_verifier: f.pkce.verifier, redirect_uri: REDIRECT, resource: f.resource };
      const r = await token(base(), { ...form, ...change({ clientId: f.clientId, code: f.code, verifier: f.pkce.verifier, resource: f.resource }) });
      assert.equal(r.body.error, error, what);
      assert.equal(r.status, error === 'invalid_client' ? 401 : 400, what);
      assert.equal(r.body.access_token, undefined, what);
    }
    const expired = await codeFor(base(), 'bad-input-bot', 'eng-012');
    stack.advance(61_000);
    const late = await token(base(), { grant_type: 'authorization_code', client_id: expired.clientId, code: expired.code, code_verifier: expired.pkce.verifier, redirect_uri: REDIRECT });
    assert.deepEqual([late.status, late.body.error, late.body.error_description], [400, 'invalid_grant', 'the code has expired']);
    assert.equal((await token(base(), { grant_type: 'password', client_id: expired.clientId })).body.error, 'unsupported_grant_type');
  });

  it('a request no operator answered expires: no code, ever', async () => {
    const clientId = (await register(base())).body.client_id as string;
    const page = await authorize(base(), { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: pkce().challenge, code_challenge_method: 'S256' });
    const id = requestIdOf(page);
    stack.advance(11 * 60_000);
    const r = await wait(base(), id);
    assert.deepEqual([r.status, r.body.error, r.location], [400, 'invalid_request', undefined]);
  });
});

describe('an external authorization server, by issuer URL', () => {
  it('its tokens are verified against its JWKS, for this resource, and stand for the agent the claim names; anything else is refused', async () => {
    const issuer = await startTestIssuer();
    try {
      const external = new ExternalIssuer({ issuer: issuer.issuer, claim: 'agent', credentials: [await testTrust().credential('ext-bot', 'eng-021')] });
      const g = await stack.gateway({ externalIssuer: external });
      const resource = `${g.baseUrl}/mcp`;
      // The metadata names the external server; the gateway's own is not served.
      const prm = (await (await fetch(`${g.baseUrl}/.well-known/oauth-protected-resource/mcp`)).json()) as { authorization_servers: string[] };
      assert.deepEqual(prm.authorization_servers, [issuer.issuer]);
      assert.equal((await fetch(`${g.baseUrl}/.well-known/oauth-authorization-server`)).status, 401);

      const good = await issuer.token({ agent: 'ext-bot', aud: resource, sub: 'user-1' });
      const transport = new StreamableHTTPClientTransport(new URL(resource), { requestInit: { headers: { authorization: `Bearer ${good}` } } });
      const client = new Client({ name: 'external', version: '1.0.0' });
      await client.connect(transport);
      const declared = await call(client, 'gatehouse_declare_intent', { intent: 'look at test billing records' });
      assert.equal((await call(client, 'billing.query', { testOnly: true, limit: 1 })).status, 'executed');
      const row = await stack.h.audit.pool.query<{ agent_id: string; owner: string }>('SELECT agent_id, owner FROM sessions WHERE session_id = $1', [declared.sessionId]);
      assert.deepEqual(row.rows[0], { agent_id: 'ext-bot', owner: 'eng-021' });
      await transport.terminateSession();
      await client.close();
      // The close ends the Gatehouse session in the background: wait for it (nothing in flight when the stack stops).
      await eventually(async () => (await stack.h.events(declared.sessionId as string)).some((e) => e.kind === 'session-ended') || undefined, { what: 'the external agent\'s session to end' });

      const refusals: [string, string, string][] = [
        ['another audience', await issuer.token({ agent: 'ext-bot', aud: 'http://127.0.0.1:1/mcp' }), 'oauth.audience'],
        ['an unknown agent', await issuer.token({ agent: 'stranger-bot', aud: resource }), 'oauth.agent'],
        ['no agent claim', await issuer.token({ aud: resource }), 'oauth.agent'],
        ['expired', await issuer.token({ agent: 'ext-bot', aud: resource }, { expiresIn: Math.floor(Date.now() / 1000) - 60 }), 'oauth.expired'],
        ['a key not in the JWKS', await issuer.token({ agent: 'ext-bot', aud: resource }, { key: 'other' }), 'oauth.signature'],
        ['another issuer', await issuer.token({ agent: 'ext-bot', aud: resource, iss: 'http://127.0.0.1:2' }), 'oauth.issuer'],
      ];
      for (const [what, bearer, rule] of refusals) {
        const r = await fetch(resource, { method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) });
        assert.equal(r.status, 401, what);
        assert.match(String(r.headers.get('www-authenticate')), /error="invalid_token"/, what);
        assert.equal(((await r.json()) as { rule: string }).rule, rule, what);
      }
      // The static bearer credential works here too.
      const r = await fetch(`${g.baseUrl}/v1/sessions/${declared.sessionId}`, { headers: { authorization: `Bearer ${await testTrust().credential('ext-bot', 'eng-021')}` } });
      assert.equal(r.status, 200);
    } finally {
      await issuer.close();
    }
  });
});
