/**
 * The dev stack's gateway port: the preferred port when it is free, another when it is taken
 * (said so). A port asked for by name (`GATEHOUSE_GATEWAY_PORT`) never comes here: taken, it fails.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';
import Fastify from 'fastify';
import { listen } from '../../gateway/listen';

function occupy(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })));
}

test('the preferred port when free; a free one, reported, when taken', async () => {
  const { server, port } = await occupy();
  const first = Fastify();
  const taken = await listen(first, '127.0.0.1', { preferredPort: port });
  assert.equal(taken.fellBack, true);
  assert.notEqual(taken.port, port);
  assert.equal((await fetch(`http://127.0.0.1:${taken.port}/`)).status, 404);
  await first.close();
  await new Promise((r) => server.close(r));

  const second = Fastify();
  const free = await listen(second, '127.0.0.1', { preferredPort: port });
  assert.deepEqual(free, { port, fellBack: false });
  await second.close();
});
