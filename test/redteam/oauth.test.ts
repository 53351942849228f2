/**
 * Red team: the gateway's OAuth authorization server, attacked by the agent it serves. The agent can
 * register a client, open the authorization page and post to every public endpoint, but:
 * - it cannot consent to its own request: not with its own credential, not with a credential signed
 *   by a key it made, not with one signed by an approver key, not with a token an earlier grant gave it;
 * - a replayed code gives nothing, and withdraws the token the code gave;
 * - a token for one resource is refused on another (`/v1`, another gateway), and a code or request
 *   cannot be moved to another resource.
 * Each case: production rows unchanged, no session started for the identity it was after, `audit verify` holds.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { base64, base64urlnopad } from '@scure/base';
import { SignJWT, importJWK } from 'jose';
import { RevocationStore } from '../../audit/credentials';
import { CREDENTIAL_AUDIENCE, CREDENTIAL_TYPE } from '../../client/trust/credentials';
import { generateSigningKey, type SigningKey } from '../../client/trust/key-files';
import { startGateway, type RunningGateway } from '../../gateway/start';
import { MAX_CLIENTS, OAuthStore } from '../../gateway/oauth/store';
import { authorize, codeFor, grant, pkce, REDIRECT, register, requestIdOf, token, wait } from '../oauth/kit';
import { grantAuthorization } from '../../cli/commands/mcp-authorize';
import { assertAuditVerifies, productionSnapshot, redTeam, selfMadeKey, trust, type RedTeam } from './attacker';

let rt: RedTeam;
let baseline: Record<string, unknown>;
let g: RunningGateway;
let other: RunningGateway;

before(async () => {
  rt = await redTeam('oauth');
  baseline = await productionSnapshot(rt.h);
  const start = () => startGateway({ temporal: { address: rt.h.address, namespace: rt.h.namespace, taskQueue: rt.h.taskQueue }, keyset: trust.keyset, revocations: new RevocationStore(rt.h.audit.pool), host: '127.0.0.1', port: 0, env: {} });
  g = await start();
  other = await start();
});
after(async () => {
  await g?.close();
  await other?.close();
  await rt?.close();
});

async function assertNothingGained(agentId: string): Promise<void> {
  assert.deepEqual(await productionSnapshot(rt.h), baseline);
  const r = await rt.h.audit.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE agent_id = $1', [agentId]);
  assert.equal(r.rows[0]!.n, 0, `no session may have started as \`${agentId}\``);
  await assertAuditVerifies(rt.h);
}

/** A credential-shaped JWT signed with any key, bound to a request: what a forger would post as consent. */
async function forged(key: SigningKey, requestId: string, resource: string, agentId: string): Promise<string> {
  const jwk = await importJWK({ kty: 'OKP', crv: 'Ed25519', x: base64urlnopad.encode(base64.decode(key.publicKey)), d: base64urlnopad.encode(base64.decode(key.secretKey)) }, 'EdDSA');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ owner: 'eng-099', policies: [], oauth_request: requestId })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.keyId, typ: CREDENTIAL_TYPE })
    .setSubject(agentId).setAudience([CREDENTIAL_AUDIENCE, resource]).setIssuedAt(now).setExpirationTime(now + 3600).setJti(`forged-${now}`)
    .sign(jwk);
}

async function consent(credential: string): Promise<{ status: number; error: unknown }> {
  const r = await fetch(`${g.url}/oauth/consent`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credential }) });
  return { status: r.status, error: ((await r.json()) as { error?: unknown }).error };
}

/** An MCP ping with `bearer`; with `host`, sent with that `Host` header (fetch may not set one). */
async function mcpPing(base: string, bearer: string, host?: string): Promise<{ status: number; rule: unknown }> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
  const headers = { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(host ? { host } : {}) };
  const r = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = httpRequest(`${base}/mcp`, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject).end(body);
  });
  return { status: r.status, rule: r.status === 401 ? (JSON.parse(r.text) as { rule?: unknown }).rule : undefined };
}

describe('an agent consents to its own authorization request', () => {
  it('its own credential, a self-made operator key, an approver key, an earlier grant: all refused; no code is ever issued', async () => {
    const agent = await rt.agent('mallory-bot', 'eng-099');
    const clientId = (await register(g.url)).body.client_id as string;
    const page = await authorize(g.url, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: pkce().challenge, code_challenge_method: 'S256' });
    const id = requestIdOf(page);
    const resource = `${g.url}/mcp`;

    assert.deepEqual(await consent(agent.token), { status: 403, error: 'access_denied' });
    assert.deepEqual(await consent(await forged(generateSigningKey('mallory', 'operator'), id, resource, 'prod-admin-bot')), { status: 403, error: 'access_denied' });
    assert.deepEqual(await consent(await forged(selfMadeKey('mallory'), id, resource, 'prod-admin-bot')), { status: 403, error: 'access_denied' });
    // `billing-bot` is a registered approver in the test keyset: an approver key is not an operator's.
    assert.deepEqual(await consent(await forged(trust.approver('billing-bot'), id, resource, 'prod-admin-bot')), { status: 403, error: 'access_denied' });
    // A token an earlier, real grant gave: bound to that request, so it answers no other.
    const earlier = await codeFor(g.url, 'mallory-bot', 'eng-099');
    const got = await token(g.url, { grant_type: 'authorization_code', client_id: earlier.clientId, code: earlier.code, code_verifier: earlier.pkce.verifier, redirect_uri: REDIRECT });
    assert.equal((await consent(got.body.access_token as string)).error, 'invalid_request');

    const status = (await (await fetch(`${g.url}/oauth/requests/${id}`)).json()) as { status: string };
    assert.equal(status.status, 'pending');
    const polled = await wait(g.url, id);
    assert.deepEqual([polled.status, polled.location], [200, undefined]);
    await assertNothingGained('prod-admin-bot');
  });
});

describe('an operator asked to grant a request an agent opened', () => {
  it('is shown who asks and where the code goes before anything is signed; a no grants nothing', async () => {
    const clientId = (await register(g.url)).body.client_id as string;
    const id = requestIdOf(await authorize(g.url, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
    let asked = '';
    await assert.rejects(
      grantAuthorization(new URL(g.url), id, { agent: 'prod-admin-bot', owner: 'eng-001', expires: '30d' }, trust.operator, { out: () => undefined, err: () => undefined }, async (q) => ((asked = q), false)),
      /was not granted/,
    );
    assert.match(asked, /`test host` \(redirect http:\/\/127\.0\.0\.1:\d+\/callback\) asks to act on http:\/\/127\.0\.0\.1:\d+\/mcp: grant it as agent `prod-admin-bot` for `eng-001`, for 30d\?/);
    assert.equal(((await (await fetch(`${g.url}/oauth/requests/${id}`)).json()) as { status: string }).status, 'pending');
    await assertNothingGained('prod-admin-bot');
  });
});

describe('a replayed code', () => {
  it('gives nothing, to the same client or another, and withdraws the token the code gave', async () => {
    const f = await codeFor(g.url, 'replay-victim-bot', 'eng-031');
    const form = { grant_type: 'authorization_code', client_id: f.clientId, code: f.code, code_verifier: f.pkce.verifier, redirect_uri: REDIRECT };
    const first = await token(g.url, form);
    assert.equal(first.status, 200);
    const issued = first.body.access_token as string;
    // Authenticated: past the credential check, refused only for want of an MCP session.
    assert.equal((await mcpPing(g.url, issued)).status, 400);

    const attackerClient = (await register(g.url)).body.client_id as string;
    const elsewhere = await token(g.url, { ...form, client_id: attackerClient });
    assert.deepEqual([elsewhere.status, elsewhere.body.error, elsewhere.body.access_token], [400, 'invalid_grant', undefined]);
    const replay = await token(g.url, form);
    assert.deepEqual([replay.status, replay.body.error, replay.body.access_token], [400, 'invalid_grant', undefined]);
    assert.deepEqual(await mcpPing(g.url, issued), { status: 401, rule: 'credential.withdrawn' });
    await assertNothingGained('replay-victim-bot');
  });
});

describe('swapping the resource', () => {
  it('a token for this /mcp is refused on /v1 and on another gateway; a request or code cannot name another resource', async () => {
    const f = await codeFor(g.url, 'swap-bot', 'eng-032');
    const swapped = await token(g.url, { grant_type: 'authorization_code', client_id: f.clientId, code: f.code, code_verifier: f.pkce.verifier, redirect_uri: REDIRECT, resource: `${other.url}/mcp` });
    assert.deepEqual([swapped.body.error, swapped.body.access_token], ['invalid_target', undefined]);

    const f2 = await codeFor(g.url, 'swap-bot', 'eng-032');
    const bound = (await token(g.url, { grant_type: 'authorization_code', client_id: f2.clientId, code: f2.code, code_verifier: f2.pkce.verifier, redirect_uri: REDIRECT })).body.access_token as string;
    assert.deepEqual(await mcpPing(other.url, bound), { status: 401, rule: 'credential.audience' });
    // Nor by naming this gateway in the `Host` header it sends the other one.
    assert.deepEqual(await mcpPing(other.url, bound, new URL(g.url).host), { status: 401, rule: 'credential.audience' });
    const v1 = await fetch(`${g.url}/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${bound}`, 'content-type': 'application/json' }, body: JSON.stringify({ intent: 'anything' }) });
    assert.equal(v1.status, 401);
    assert.equal(((await v1.json()) as { rule: string }).rule, 'credential.audience');

    // An operator's grant for this gateway cannot answer a request made at another one.
    const clientId = (await register(other.url)).body.client_id as string;
    const elsewhere = requestIdOf(await authorize(other.url, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
    await assert.rejects(grant(g.url, elsewhere, 'swap-bot', 'eng-032'), /no such authorization request/);
    const atOther = (await (await fetch(`${other.url}/oauth/requests/${elsewhere}`)).json()) as { status: string };
    assert.equal(atOther.status, 'pending');
    await assertNothingGained('swap-bot');
  });
});

describe('flooding the public OAuth routes', () => {
  it('a flood of registrations cannot evict a host that signed in; oversized URIs and states are refused', async () => {
    const long = await register(g.url, [`http://127.0.0.1:9/${'x'.repeat(2_100)}`]);
    assert.deepEqual([long.status, (long.body as { error?: string }).error], [400, 'invalid_redirect_uri']);
    const client = (await register(g.url)).body as { client_id: string };
    const { challenge } = pkce();
    const bigState = await authorize(g.url, { client_id: client.client_id, redirect_uri: REDIRECT, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256', state: 's'.repeat(2_100) });
    assert.equal(bigState.status, 302);
    assert.equal(bigState.location?.searchParams.get('error'), 'invalid_request');

    // The store past its cap: unused registrations make room for each other, a client that got a token stays.
    const store = new OAuthStore();
    const host = store.register('claude desktop', [REDIRECT]);
    store.clientUsed(host.clientId);
    const first = store.register('flood 0', [REDIRECT]);
    for (let i = 1; i < MAX_CLIENTS + 5; i++) store.register(`flood ${i}`, [REDIRECT]);
    assert.equal(store.client(host.clientId)?.clientName, 'claude desktop');
    assert.equal(store.client(first.clientId), undefined);
  });
});
