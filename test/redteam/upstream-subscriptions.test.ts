/**
 * Red team: an agent starves other agents of resource updates. A worker watches at most 1,000
 * resources per upstream server, for every agent together; an agent opens many MCP sessions (and
 * sub-agents) and subscribes each to 100 resources its policy classifies, renewed for as long as it
 * likes. The gateway bounds what one root agent's sessions watch together (`MAX_WATCHED_PER_AGENT`),
 * so the agent is refused past it and another agent still subscribes. And the count must not leak:
 * the same subscription sent many times at once, or while the session closes, holds one watch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { AgentSession } from '../../gateway/mcp/agent-session';
import { registerSubjectHandlers } from '../../gateway/mcp/subject-handlers';
import { MAX_WATCHED_PER_AGENT, type UpstreamSubjects, type Watch } from '../../gateway/mcp/upstream-subjects';
import { subscriptionsFixture, type SubscriptionsFixture } from '../mcp/subscriptions-fixture';

describe("an agent takes every upstream subscription a worker has", () => {
  let f: SubscriptionsFixture;
  before(async () => {
    f = await subscriptionsFixture('redteam_subscriptions', 60_000);
  });
  after(() => f?.close());

  it("is refused past its bound, sub-agents included; another agent is not, and a freed one is taken again", async () => {
    const held: Watch[] = [];
    for (let i = 0; i < MAX_WATCHED_PER_AGENT; i++) held.push(await f.watch(`docs://guide/many-${i}`, `s-many-${i % 20}`, i % 2 ? 'fleet-bot' : 'fleet-bot/child'));
    assert.equal(await f.subjects.subscribe({ sessionId: 's-many-0', policyHash: 'the policy' }, 'docs://guide/one-more', 'fleet-bot/other-child'), 'full');
    const other = await f.watch('docs://guide/one-more', 's-other-agent', 'other-bot');
    held.pop()!.stop();
    const freed = await f.watch('docs://guide/one-more', 's-many-0', 'fleet-bot');
    for (const w of [...held, other, freed]) w.stop();
  });
});

describe('an agent races its own subscriptions to leak watches', () => {
  it('the same resource subscribed twenty times at once holds one watch, and none once the session closes', async () => {
    let live = 0;
    // The gateway's subjects as far as a subscription goes: each watch counted until stopped.
    const subjects = {
      onResourceUpdated: () => () => undefined,
      async subscribe(): Promise<Watch> {
        await new Promise((resolve) => setImmediate(resolve)); // the database round trip
        live += 1;
        let stopped = false;
        return { server: 'docs', stop: () => void (!stopped && ((stopped = true), (live -= 1))) };
      },
    } as unknown as UpstreamSubjects;
    const session = { listingSession: async () => ({ sessionId: 's-race', policyHash: 'the policy' }), caller: { agentId: 'racer' } } as unknown as AgentSession;
    const server = new Server({ name: 'race', version: '1.0.0' }, { capabilities: { resources: { subscribe: true }, prompts: {}, completions: {}, logging: {} } });
    registerSubjectHandlers(server, session, subjects);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: 'racer', version: '1.0.0' });
    await client.connect(clientSide);
    await Promise.all(Array.from({ length: 20 }, () => client.subscribeResource({ uri: 'docs://guide/a' })));
    assert.equal(live, 1);
    await client.close();
    assert.equal(live, 0);
  });
});
