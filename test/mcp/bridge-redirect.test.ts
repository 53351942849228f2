/**
 * The stdio bridge (`gatehouse mcp`) never follows a redirect from what it takes for the gateway:
 * not to another origin (where the credential and every call would go), nor within the origin (a
 * path the gateway does not serve). Its MCP session does not open, and nothing reaches the target.
 * A local server stands in for the gateway's `/mcp`.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { BridgeError, startBridge } from '../../gateway/mcp/bridge';
import { listen, type Stand } from '../support/http-stand';

let elsewhere: Stand;
let gateway: Stand;

before(async () => {
  elsewhere = await listen((_req, res) => res.writeHead(404).end());
  gateway = await listen((req, res) => {
    if (req.url === '/mcp') res.writeHead(307, { location: `${elsewhere.url}/mcp` }).end();
    else if (req.url === '/mcp-same-origin') res.writeHead(307, { location: '/moved/mcp' }).end();
    else res.writeHead(404).end();
  });
});
after(async () => {
  for (const s of [gateway, elsewhere]) await s.close();
});

async function bridgeTo(path: string): Promise<unknown> {
  try {
    await startBridge({ url: new URL(path, gateway.url), token: 'agent-credential', stdin: new PassThrough(), stdout: new PassThrough(), log: () => undefined });
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('gatehouse mcp and a redirecting gateway', () => {
  it('a 307 to another origin: no session, nothing sent there', async () => {
    const err = await bridgeTo('/mcp');
    assert.ok(err instanceof BridgeError, String(err));
    assert.match(err.message, /cannot open an MCP session at http:\/\/127\.0\.0\.1:\d+\/mcp: .*redirect/);
    assert.deepEqual(elsewhere.seen, []);
  });

  it('a 307 within the origin: not followed either', async () => {
    const err = await bridgeTo('/mcp-same-origin');
    assert.ok(err instanceof BridgeError, String(err));
    assert.deepEqual(gateway.seen.filter((r) => r.method === 'POST' && r.url.startsWith('/moved')), [], 'the initialize request was not sent on');
    assert.deepEqual(elsewhere.seen, []);
  });
});
