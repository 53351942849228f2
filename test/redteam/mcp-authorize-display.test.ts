/**
 * `gatehouse mcp authorize` shows the operator who asks before it signs: the client's name,
 * redirect URI and resource, all of which the client wrote itself when it registered (dynamic
 * client registration is open to anyone, an agent included). A name holding line breaks, terminal
 * escapes or backticks must not draw a prompt or a line of its own, nor end its own quote; and the
 * consent, which carries a signed credential, is never sent on to where a redirect points.
 *
 * The gateway here is a local stand-in answering the two routes the command uses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { grantAuthorization } from '../../cli/commands/mcp-authorize';
import { testTrust } from '../support/trust';
import type { ServerResponse } from 'node:http';
import { listen, type Stand } from '../support/http-stand';

const FORGED_NAME = 'Claude\n\u001b[1mGatehouse\u001b[0m: request checked, safe to grant.\r\n`ok` (redirect https://claude.ai/cb) asks';

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

let elsewhere: Stand;
let gateway: Stand;
/** How the stand-in answers the consent: as the gateway does, or with a redirect to another origin. */
let consent: 'ok' | 'redirect' = 'ok';

before(async () => {
  elsewhere = await listen((_req, res) => json(res, 200, {}));
  gateway = await listen((req, res) => {
    if (req.method === 'GET' && req.url?.startsWith('/oauth/requests/')) {
      json(res, 200, { request_id: 'req-1', client_name: FORGED_NAME, redirect_uri: 'https://evil.example/cb\n(redirect https://claude.ai/cb)', resource: `${gateway.url}/mcp`, status: 'pending' });
    } else if (req.method === 'POST' && req.url === '/oauth/consent') {
      if (consent === 'redirect') res.writeHead(307, { location: `${elsewhere.url}/oauth/consent` }).end();
      else json(res, 200, {});
    } else json(res, 404, { error: 'not_found' });
  });
});
after(async () => {
  for (const s of [gateway, elsewhere]) await s.close();
});

const OPTIONS = { agent: 'desktop-bot', owner: 'eng-007', expires: '1h' };
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

describe('what an operator is shown of a self-registered client', () => {
  it('the question is one line: the name and redirect cannot draw lines or end their quote', async () => {
    let asked = '';
    await assert.rejects(
      grantAuthorization(new URL(gateway.url), 'req-1', OPTIONS, testTrust().operator, { out: () => undefined, err: () => undefined }, async (q) => ((asked = q), false)),
      /was not granted/,
    );
    assert.doesNotMatch(asked, CONTROL, asked);
    assert.equal(asked.split('`').length, 7, `three quoted names, each closed where it should be: ${asked}`);
    assert.ok(asked.startsWith('`Claude\\u000a\\u001b[1mGatehouse\\u001b[0m: request checked, safe to grant.\\u000d\\u000a\\u0060ok\\u0060 (redirect https://claude.ai/cb) asks` (redirect https://evil.example/cb\\u000a(redirect https://claude.ai/cb)) asks to act on '), asked);
  });

  it('the granted line is one line too', async () => {
    consent = 'ok';
    const out: string[] = [];
    await grantAuthorization(new URL(gateway.url), 'req-1', OPTIONS, testTrust().operator, { out: (t) => out.push(t), err: () => undefined }, async () => true);
    assert.equal(out.length, 2);
    for (const line of out) assert.doesNotMatch(line, CONTROL, line);
    assert.match(out[0]!, /^granted: `Claude\\u000a.*\\u0060ok\\u0060 .* asks` \(redirect https:\/\/evil\.example\/cb\\u000a\(redirect https:\/\/claude\.ai\/cb\)\) acts as agent `desktop-bot`/);
  });

  it('a consent answered with a redirect elsewhere is not sent on there', async () => {
    consent = 'redirect';
    const before = elsewhere.seen.length;
    await assert.rejects(grantAuthorization(new URL(gateway.url), 'req-1', OPTIONS, testTrust().operator, { out: () => undefined, err: () => undefined }, async () => true));
    assert.deepEqual(elsewhere.seen.slice(before), [], 'the signed credential never left for the other origin');
  });
});
