/**
 * `session.spawnChild` of `@gatehouse/client` offers what the gateway's `POST .../children` accepts
 * (`agentId`, `intent`, `mandate`; the schema is strict) and nothing else: a sub-agent's session id
 * is the workflow's choice (`<session id>.<n>`), so the client neither offers nor sends one.
 * A local server stands in for the gateway and records the body.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Gatehouse, type SpawnOptions } from '../../packages/client/src/index';

let server: Server;
let url: string;
const bodies: unknown[] = [];

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      if (req.url === '/healthz') return void res.writeHead(200).end('{}');
      bodies.push(JSON.parse(body));
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'started', sessionId: 's-1.1', workflowId: 'session-s-1.1', reasons: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('spawnChild options', () => {
  it('sends only what the gateway accepts; the child\'s id comes back from the workflow', async () => {
    const gh = await Gatehouse.connect({ url, token: 'agent-credential' });
    try {
      // @ts-expect-error `sessionId` is not a spawn option: the gateway refuses it (422) and the workflow names the child
      const typed: SpawnOptions = { agentId: 'helper', intent: 'check the invoices', sessionId: 'mine' };
      const child = await gh.session('s-1').spawnChild(typed, 0);
      assert.equal(child.sessionId, 's-1.1');
      await gh.session('s-1').spawnChild({ agentId: 'helper', intent: 'check the invoices', mandate: { tools: ['billing.query'] } }, 0);
    } finally {
      gh.close();
    }
    assert.deepEqual(bodies, [
      { agentId: 'helper', intent: 'check the invoices' },
      { agentId: 'helper', intent: 'check the invoices', mandate: { tools: ['billing.query'] } },
    ]);
  });
});
