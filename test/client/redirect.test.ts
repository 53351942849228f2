/**
 * The agent's TypeScript client (`@gatehouse/client`) never follows a redirect. A gateway URL that
 * answers 307 to another origin (a misconfigured proxy, a hijacked address) must not make the
 * client send the credential and the whole proposal there again and hand back that host's answer
 * as Gatehouse's decision. Local servers stand in for the gateway and the other origin.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Gatehouse, GatewayUnreachableError } from '../../packages/client/src/index';
import { listen, type Stand } from '../support/http-stand';

const EXECUTED = { status: 'executed', decision: { verdict: 'allow', tier: 'autonomous', reasons: [], policyHash: 'ab'.repeat(32) }, result: { forged: true }, sequence: 1 };

let elsewhere: Stand;
let gateway: Stand;

before(async () => {
  // The other origin answers everything as if it were the gateway.
  elsewhere = await listen((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(EXECUTED)));
  gateway = await listen((req, res) => {
    if (req.url === '/healthz') res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    else res.writeHead(307, { location: `${elsewhere.url}${req.url}` }).end();
  });
});
after(async () => {
  for (const s of [gateway, elsewhere]) await s.close();
});

describe('@gatehouse/client and a redirect', () => {
  it('a proposal answered 307 to another origin is not sent there again: the call fails', async () => {
    const gh = await Gatehouse.connect({ url: gateway.url, token: 'agent-credential' });
    try {
      const session = gh.session('s-1');
      await assert.rejects(
        session.propose({ tool: 'billing.deleteRecords', args: { filter: { period: '2026-10' } }, reasoning: 'clean up' }, { wait: 0 }),
        (err: unknown) => err instanceof GatewayUnreachableError && /redirect/.test(err.message),
      );
    } finally {
      gh.close();
    }
    assert.deepEqual(gateway.seen.map((r) => `${r.method} ${r.url.split('?')[0]}`), ['GET /healthz', 'POST /v1/sessions/s-1/proposals']);
    assert.deepEqual(elsewhere.seen, [], 'neither the credential nor the proposal reached the other origin');
  });

  it('connect does not take a redirected health check for the gateway', async () => {
    const redirecting = await listen((req, res) => res.writeHead(307, { location: `${elsewhere.url}${req.url}` }).end());
    try {
      await assert.rejects(Gatehouse.connect({ url: redirecting.url, token: 'agent-credential' }), GatewayUnreachableError);
      assert.deepEqual(elsewhere.seen, []);
    } finally {
      await redirecting.close();
    }
  });

  it('an unreachable gateway is named without the user and password its URL carries', async () => {
    const closed = await listen(() => undefined);
    await closed.close();
    const url = closed.url.replace('http://', 'http://agent:s3cret@');
    await assert.rejects(Gatehouse.connect({ url, token: 'agent-credential' }), (err: unknown) => {
      assert.ok(err instanceof GatewayUnreachableError);
      assert.doesNotMatch(err.message, /s3cret|agent:/);
      assert.match(err.message, new RegExp(`no gateway answers at \`${closed.url.replace(/\./g, '\\.')}\``));
      return true;
    });
  });
});
