/**
 * Authentication (gateway/auth.ts) in-process: the Gatekeeper on a controlled clock (verified
 * tokens cached until they expire, revocation asked on every request, the identity copied from
 * the credential), the `Bearer` header's parsing, and the hook on a Fastify app answered by
 * `inject` (public routes only where registered public, unmatched paths authenticated).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { Gatekeeper, isPublicRoute, registerAuth } from '../../gateway/auth';
import { ExternalIssuer } from '../../gateway/oauth/external';
import { Problem, sendProblem } from '../../gateway/problems';
import { issueAgentCredential } from '../../client/trust/credentials';
import { startTestIssuer } from '../oauth/issuer';
import { testTrust } from '../support/trust';

const T0 = Date.parse('2026-06-01T12:00:00Z');

/** A revocation list of agent ids, counting its questions. */
function revocations(revoked: readonly string[] = []) {
  const asked: string[] = [];
  return { asked, isRevoked: async (agentId: string, issuedAt: string) => { asked.push(`${agentId}@${issuedAt}`); return revoked.includes(agentId); } };
}

async function refusal(p: Promise<unknown>): Promise<{ rule: unknown; message: string }> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof Problem, `not a problem: ${String(err)}`);
    assert.equal(err.status, 401);
    return { rule: err.extra.rule, message: err.message };
  }
  assert.fail('the credential was accepted');
}

describe('Gatekeeper', () => {
  it('returns the identity the credential names, the token itself included', async () => {
    const trust = testTrust();
    const token = await trust.credential('agent-1', 'alice', { policies: ['p1', 'p2'], now: T0, expiresInSeconds: 3600 });
    const agent = await new Gatekeeper(trust.keyset, revocations(), { now: () => T0 }).check(token);
    assert.equal(agent.agentId, 'agent-1');
    assert.equal(agent.owner, 'alice');
    assert.deepEqual(agent.policies, ['p1', 'p2']);
    assert.equal(agent.token, token);
    assert.equal(agent.issuedAt, '2026-06-01T12:00:00.000Z');
    assert.equal(agent.expiresAt, '2026-06-01T13:00:00.000Z');
    assert.match(agent.credentialId, /^[0-9a-f-]{36}$/);
  });

  it('refuses a missing, malformed or foreign-signed credential with the rule of the failed check', async () => {
    const trust = testTrust();
    const g = new Gatekeeper(trust.keyset, revocations(), { now: () => T0 });
    assert.equal((await refusal(g.check(undefined))).rule, 'credential.missing');
    assert.equal((await refusal(g.check('not-a-jwt'))).rule, 'credential.malformed');
    const tampered = (await refusal(g.check(await trust.credential('agent-1', 'alice', { now: T0 }).then((t) => `${t.split('.')[0]}.${t.split('.')[1]}.AAAA`)))).rule;
    assert.equal(tampered, 'credential.signature');
  });

  it('asks the revocation list on every request, cached or not, and refuses a revoked agent', async () => {
    const trust = testTrust();
    const list = revocations(['agent-revoked']);
    const g = new Gatekeeper(trust.keyset, list, { now: () => T0 });
    const ok = await trust.credential('agent-ok', 'alice', { now: T0 });
    await g.check(ok);
    await g.check(ok);
    assert.deepEqual(list.asked, ['agent-ok@2026-06-01T12:00:00.000Z', 'agent-ok@2026-06-01T12:00:00.000Z']);
    const r = await refusal(g.check(await trust.credential('agent-revoked', 'alice', { now: T0 })));
    assert.deepEqual(r, { rule: 'credential.revoked', message: 'the agent credential of `agent-revoked` is revoked' });
  });

  it('keeps at most `maxCachedCredentials` verified tokens: one more starts the cache again', async () => {
    const trust = testTrust();
    const g = new Gatekeeper(trust.keyset, revocations(), { now: () => T0, maxCachedCredentials: 3 });
    const tokens = await Promise.all(['a', 'b', 'c', 'd'].map((a) => trust.credential(`agent-${a}`, 'alice', { now: T0 })));
    for (const t of tokens.slice(0, 3)) await g.check(t);
    await g.check(tokens[0]); // cached: no new entry
    assert.equal(g.cachedCredentials, 3);
    await g.check(tokens[3]);
    assert.equal(g.cachedCredentials, 1);
  });

  it('a cached credential is used only until it expires: at its expiry it is verified again and refused', async () => {
    const trust = testTrust();
    let now = T0;
    const g = new Gatekeeper(trust.keyset, revocations(), { now: () => now });
    const token = await trust.credential('agent-1', 'alice', { now: T0, expiresInSeconds: 60 });
    await g.check(token);
    now = T0 + 59_999;
    assert.equal((await g.check(token)).agentId, 'agent-1');
    now = T0 + 60_000;
    assert.equal((await refusal(g.check(token))).rule, 'credential.expired');
  });
});

describe('Gatekeeper: resource-bound, withdrawn and external credentials', () => {
  const MCP = 'https://gate.example/mcp';

  it('a credential bound to a resource is accepted there and where no resource is asked (the worker), refused elsewhere', async () => {
    const trust = testTrust();
    const g = new Gatekeeper(trust.keyset, revocations(), { now: () => T0 });
    const bound = (await issueAgentCredential(trust.operator, { agentId: 'agent-b', owner: 'alice', now: T0, oauth: { resource: MCP, requestId: 'req-1' } })).token;
    assert.equal((await g.check(bound, MCP)).agentId, 'agent-b');
    assert.equal((await g.check(bound)).agentId, 'agent-b');
    assert.deepEqual(await refusal(g.check(bound, 'https://gate.example/v1')), {
      rule: 'credential.audience',
      message: 'the agent credential is bound to `https://gate.example/mcp`, not to `https://gate.example/v1`',
    });
    // An unbound credential is good on any resource.
    assert.equal((await g.check(await trust.credential('agent-u', 'alice', { now: T0 }), MCP)).agentId, 'agent-u');
  });

  it('refuses a withdrawn credential by its id, and only that one', async () => {
    const trust = testTrust();
    const withdrawn = await trust.credential('agent-w', 'alice', { now: T0 });
    const id = (await new Gatekeeper(trust.keyset, revocations(), { now: () => T0 }).check(withdrawn)).credentialId;
    const g = new Gatekeeper(trust.keyset, revocations(), { now: () => T0, isWithdrawn: (c) => c === id });
    assert.deepEqual(await refusal(g.check(withdrawn)), { rule: 'credential.withdrawn', message: 'the agent credential was withdrawn: its authorization code was used twice' });
    assert.equal((await g.check(await trust.credential('agent-w', 'alice', { now: T0 }))).agentId, 'agent-w');
  });

  it('sends a token that is not an agent credential to the external issuer, and an agent credential never', async () => {
    const trust = testTrust();
    const issuer = await startTestIssuer();
    try {
      const mapped = await trust.credential('ext-bot', 'eng-021', { now: T0 });
      const external = new ExternalIssuer({ issuer: issuer.issuer, claim: 'agent', credentials: [mapped] });
      const g = new Gatekeeper(trust.keyset, revocations(), { now: () => T0, external });
      // The external token stands for the mapped credential: the identity carries that credential, not the token.
      const agent = await g.check(await issuer.token({ agent: 'ext-bot', aud: MCP }), MCP);
      assert.deepEqual([agent.agentId, agent.owner, agent.token], ['ext-bot', 'eng-021', mapped]);
      // An agent credential is verified here, without the external issuer (which would refuse it: not its signature).
      assert.equal((await g.check(await trust.credential('agent-own', 'alice', { now: T0 }), MCP)).agentId, 'agent-own');
      // Not a JWT at all: not an agent credential, so the external issuer answers.
      assert.equal((await refusal(g.check('not-a-jwt', MCP))).rule, 'oauth.signature');
    } finally {
      await issuer.close();
    }
  });
});

/** An app with a public route, a private one, and the problem handler the gateway uses. */
async function app(): Promise<FastifyInstance> {
  const trust = testTrust();
  const a = Fastify();
  a.setErrorHandler((err, _req, reply) => (err instanceof Problem ? sendProblem(reply, err) : reply.code(500).send({ error: String(err) })));
  registerAuth(a, new Gatekeeper(trust.keyset, revocations()));
  a.get('/health', { config: { public: true } }, async (req) => ({ public: isPublicRoute(req), agentSet: req.agent !== undefined, agent: req.agent }));
  a.get('/v1/me', async (req) => ({ agent: req.agent.agentId, public: isPublicRoute(req) }));
  a.get('/v1/not-public', { config: { public: false } }, async () => ({ ok: true }));
  await a.ready();
  return a;
}

describe('registerAuth', () => {
  it('lets a public route through without a credential; every other route, and unmatched paths, need one', async () => {
    const a = await app();
    const token = await testTrust().credential('agent-h', 'alice');
    const health = await a.inject({ url: '/health' });
    assert.equal(health.statusCode, 200);
    // No credential was read: `request.agent` is the decorated null, never someone's identity.
    assert.deepEqual(health.json(), { public: true, agentSet: true, agent: null });
    for (const url of ['/v1/me', '/v1/not-public', '/nowhere', '/%76%31/me']) {
      const r = await a.inject({ url });
      assert.equal(r.statusCode, 401, url);
      assert.equal(r.json().rule, 'credential.missing', url);
    }
    const me = await a.inject({ url: '/v1/me', headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(me.json(), { agent: 'agent-h', public: false });
    const unmatched = await a.inject({ url: '/nowhere', headers: { authorization: `Bearer ${token}` } });
    assert.equal(unmatched.statusCode, 404);
    await a.close();
  });

  it('reads `Bearer <token>` case-insensitively with spaces around; any other authorization header is malformed', async () => {
    const a = await app();
    const token = await testTrust().credential('agent-h', 'alice');
    for (const header of [`Bearer ${token}`, `bearer   ${token}  `, `BEARER\t${token}`]) {
      const r = await a.inject({ url: '/v1/me', headers: { authorization: header } });
      assert.equal(r.statusCode, 200, header);
    }
    for (const header of [token, `Basic ${token}`, `Bearer ${token} extra`, 'Bearer', `xBearer ${token}`]) {
      const r = await a.inject({ url: '/v1/me', headers: { authorization: header } });
      assert.equal(r.statusCode, 401, header);
      assert.equal(r.json().rule, 'credential.malformed', header);
      assert.equal(r.json().detail, 'the `authorization` header must be `Bearer <agent credential>`');
    }
    await a.close();
  });
});
