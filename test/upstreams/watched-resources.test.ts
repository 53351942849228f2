/**
 * The resources a worker watches on one upstream server: renewed by gateways, dropped when no
 * gateway asked again within the time to live, so the bound holds only what is watched now (it
 * held every resource ever watched, and once reached no new subscription was ever made). And a
 * bound per root agent, over every gateway that asks for it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UNKNOWN_AGENT, WatchedResources } from '../../activities/upstreams/watched-resources';

const TTL = 1_000;

describe('watched resources', () => {
  it('subscribes a new resource once, and a renewal changes nothing', () => {
    const w = new WatchedResources(10, 10, TTL);
    assert.deepEqual(w.ask('a://1', 'bot', 0), { outcome: 'new', dropped: [] });
    assert.deepEqual(w.ask('a://1', 'bot', 500), { outcome: 'known', dropped: [] });
    assert.deepEqual(w.uris, ['a://1']);
  });

  it('drops what no gateway asked for within the time to live, when a new one comes, and makes room with it', () => {
    const w = new WatchedResources(2, 10, TTL);
    w.ask('a://old', 'bot', 0);
    w.ask('a://renewed', 'bot', 0);
    assert.deepEqual(w.ask('a://late', 'bot', 10), { outcome: 'full', dropped: [] }, 'full while both are live');
    w.ask('a://renewed', 'bot', 900); // a gateway asked again
    assert.deepEqual(w.ask('a://late', 'bot', 1_001), { outcome: 'new', dropped: ['a://old'] });
    assert.deepEqual(w.uris.sort(), ['a://late', 'a://renewed']);
    // Exactly the time to live since the last request is still live.
    assert.deepEqual(w.ask('a://more', 'bot', 1_900), { outcome: 'full', dropped: [] });
    assert.deepEqual(w.ask('a://more', 'bot', 1_901), { outcome: 'new', dropped: ['a://renewed'] });
  });

  it('bounds what one root agent watches, leaving the rest to other agents', () => {
    const w = new WatchedResources(10, 2, TTL);
    assert.equal(w.ask('a://1', 'greedy', 0).outcome, 'new');
    assert.equal(w.ask('a://2', 'greedy', 0).outcome, 'new');
    assert.deepEqual(w.ask('a://3', 'greedy', 0), { outcome: 'agent-full', dropped: [] });
    assert.equal(w.ask('a://3', 'other', 0).outcome, 'new');
    // A resource watched for another agent counts against each agent that asks for it.
    assert.equal(w.ask('a://1', 'other', 0).outcome, 'known');
    assert.equal(w.ask('a://4', 'other', 0).outcome, 'agent-full');
    assert.deepEqual([w.heldBy('greedy'), w.heldBy('other')], [2, 2]);
    assert.deepEqual(w.uris.sort(), ['a://1', 'a://2', 'a://3']);
  });

  it("keeps a resource while one agent still asks, and frees an agent's share when its requests expire", () => {
    const w = new WatchedResources(10, 1, TTL);
    w.ask('a://shared', 'first', 0);
    w.ask('a://shared', 'second', 0);
    w.ask('a://shared', 'second', 900);
    assert.deepEqual(w.ask('a://next', 'first', 1_001), { outcome: 'new', dropped: [] }, "the first agent's share is free again; the resource stays for the second");
    assert.deepEqual(w.ask('a://other', 'second', 1_901), { outcome: 'new', dropped: ['a://shared'] });
  });

  it('counts requests that name no agent as one agent', () => {
    const w = new WatchedResources(10, 2, TTL);
    w.ask('a://1', UNKNOWN_AGENT, 0);
    w.ask('a://2', UNKNOWN_AGENT, 0);
    assert.equal(w.ask('a://3', UNKNOWN_AGENT, 0).outcome, 'agent-full');
    assert.equal(w.ask('a://3', 'named', 0).outcome, 'new');
  });
});
