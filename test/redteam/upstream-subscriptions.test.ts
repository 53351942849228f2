/**
 * Red team: an agent starves other agents of resource updates. A worker watches at most 1,000
 * resources per upstream server, for every agent together; an agent opens many MCP sessions (and
 * sub-agents) and subscribes each to 100 resources its policy classifies, renewed for as long as it
 * likes. The gateway bounds what one root agent's sessions watch together (`MAX_WATCHED_PER_AGENT`),
 * so the agent is refused past it and another agent still subscribes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_WATCHED_PER_AGENT, type Watch } from '../../gateway/mcp/upstream-subjects';
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
