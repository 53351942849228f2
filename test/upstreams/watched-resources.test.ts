/**
 * The resources a worker watches on one upstream server: renewed by gateways, dropped when no
 * gateway asked again within the time to live, so the bound holds only what is watched now (it
 * held every resource ever watched, and once reached no new subscription was ever made).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WatchedResources } from '../../activities/upstreams/watched-resources';

const TTL = 1_000;

describe('watched resources', () => {
  it('subscribes a new resource once, and a renewal changes nothing', () => {
    const w = new WatchedResources(10, TTL);
    assert.deepEqual(w.ask('a://1', 0), { outcome: 'new', dropped: [] });
    assert.deepEqual(w.ask('a://1', 500), { outcome: 'known', dropped: [] });
    assert.deepEqual(w.uris, ['a://1']);
  });

  it('drops what no gateway asked for within the time to live, when a new one comes, and makes room with it', () => {
    const w = new WatchedResources(2, TTL);
    w.ask('a://old', 0);
    w.ask('a://renewed', 0);
    assert.deepEqual(w.ask('a://late', 10), { outcome: 'full', dropped: [] }, 'full while both are live');
    w.ask('a://renewed', 900); // a gateway asked again
    assert.deepEqual(w.ask('a://late', 1_001), { outcome: 'new', dropped: ['a://old'] });
    assert.deepEqual(w.uris.sort(), ['a://late', 'a://renewed']);
    // Exactly the time to live since the last request is still live.
    assert.deepEqual(w.ask('a://more', 1_900), { outcome: 'full', dropped: [] });
    assert.deepEqual(w.ask('a://more', 1_901), { outcome: 'new', dropped: ['a://renewed'] });
  });
});
