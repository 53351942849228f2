/**
 * The event store of `/mcp` alone: a stream's events replay in order after the id given, never the
 * priming event nor another stream's; the per-session and total bounds evict the oldest, an agent's
 * shares (events and characters) only that agent's own; a dropped session holds nothing; an id one
 * session gave out means nothing to another.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { DEFAULT_EVENT_BOUNDS, McpEventBuffer, type SessionEventStore } from '../../gateway/mcp/event-store';

const note = (n: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 't', progress: n } });

async function replay(store: SessionEventStore, after: string): Promise<{ stream: string; sent: [string, JSONRPCMessage][] }> {
  const sent: [string, JSONRPCMessage][] = [];
  const stream = await store.replayEventsAfter(after, { send: async (id, m) => void sent.push([id, m]) });
  return { stream, sent };
}

test('replays what came after the id on its stream only, without the priming event', async () => {
  const store = new McpEventBuffer().forSession('agent');
  const priming = await store.storeEvent('a', {} as JSONRPCMessage);
  const one = await store.storeEvent('a', note(1));
  await store.storeEvent('b', note(99));
  const two = await store.storeEvent('a', note(2));
  assert.equal(await store.getStreamIdForEventId(one), 'a');
  assert.deepEqual(await replay(store, priming), { stream: 'a', sent: [[one, note(1)], [two, note(2)]] });
  assert.deepEqual((await replay(store, one)).sent, [[two, note(2)]]);
  assert.deepEqual((await replay(store, two)).sent, []);
});

test('an id of another session, or one never given out, is unknown', async () => {
  const buffer = new McpEventBuffer();
  const mine = buffer.forSession('agent');
  const theirs = buffer.forSession('agent');
  const id = await theirs.storeEvent('their-stream', note(1));
  await mine.storeEvent('my-stream', note(2));
  assert.equal(await mine.getStreamIdForEventId(id), undefined);
  await assert.rejects(replay(mine, id), /no event `their-stream_1` in this MCP session/);
  assert.equal(await mine.getStreamIdForEventId('my-stream_7'), undefined);
  // Same stream name and sequence in two sessions: each id is looked up in its own session only.
  const mineId = await mine.storeEvent('x', note(3));
  const theirsId = await theirs.storeEvent('x', note(4));
  assert.equal(mineId, theirsId);
  await mine.storeEvent('x', note(5));
  assert.deepEqual((await replay(mine, mineId)).sent.map(([, m]) => m), [note(5)]);
});

test('the per-session bound evicts a session\'s oldest events', async () => {
  const buffer = new McpEventBuffer({ perSession: 3, total: 100, perAgent: 100, totalChars: 1_000_000, perAgentChars: 1_000_000 });
  const store = buffer.forSession('agent');
  const ids = [];
  for (let n = 0; n < 5; n++) ids.push(await store.storeEvent('a', note(n)));
  assert.equal(store.size, 3);
  assert.equal(await store.getStreamIdForEventId(ids[1]!), undefined);
  assert.deepEqual((await replay(store, ids[2]!)).sent.map(([, m]) => m), [note(3), note(4)]);
  assert.equal(buffer.size.events, 3);
});

test('the total bounds evict the gateway\'s oldest events, whichever session holds them', async () => {
  const buffer = new McpEventBuffer({ perSession: 100, total: 4, perAgent: 100, totalChars: 1_000_000, perAgentChars: 1_000_000 });
  const a = buffer.forSession('agent');
  const b = buffer.forSession('agent');
  const first = await a.storeEvent('a', note(1));
  await b.storeEvent('b', note(2));
  await a.storeEvent('a', note(3));
  await b.storeEvent('b', note(4));
  await b.storeEvent('b', note(5));
  assert.equal(await a.getStreamIdForEventId(first), undefined);
  assert.deepEqual([a.size, b.size, buffer.size.events], [1, 3, 4]);

  const chars = JSON.stringify(note(1)).length;
  const small = new McpEventBuffer({ perSession: 100, total: 100, perAgent: 100, totalChars: chars * 2, perAgentChars: 1_000_000 });
  const s = small.forSession('agent');
  for (let n = 1; n <= 3; n++) await s.storeEvent('a', note(n));
  assert.deepEqual(small.size, { events: 2, chars: chars * 2 });
});

test('an agent past its share loses its own oldest events, never another agent\'s', async () => {
  const chars = JSON.stringify(note(1)).length;
  const buffer = new McpEventBuffer({ perSession: 100, total: 4, perAgent: 100, totalChars: 1_000_000, perAgentChars: chars * 3 });
  const victim = buffer.forSession('victim-bot');
  const kept = await victim.storeEvent('v', note(1));
  // The flooder's twenty sessions together: past its share, its own oldest go.
  const flood = Array.from({ length: 20 }, () => buffer.forSession('mallory-bot'));
  for (const [i, s] of flood.entries()) for (let n = 0; n < 5; n++) await s.storeEvent(`m${i}`, note(n));
  assert.equal(await victim.getStreamIdForEventId(kept), 'v');
  assert.deepEqual([buffer.charsOf('mallory-bot'), buffer.charsOf('victim-bot'), buffer.size.events], [chars * 3, chars, 4]);
  for (const s of flood) s.drop();
  assert.deepEqual(buffer.size, { events: 1, chars });
});

test('priming events count against the agent\'s share of events: a flood of them never evicts another agent\'s event', async () => {
  const buffer = new McpEventBuffer();
  const victim = buffer.forSession('victim-bot');
  const kept = await victim.storeEvent('v', note(1));
  // 79 sessions of 256 priming events (no characters): more events than the whole gateway keeps.
  for (let s = 0; s < 79; s++) {
    const flood = buffer.forSession('mallory-bot');
    for (let n = 0; n < 256; n++) await flood.storeEvent(`m${s}`, {} as JSONRPCMessage);
  }
  assert.equal(await victim.getStreamIdForEventId(kept), 'v');
  assert.deepEqual((await replay(victim, kept)).sent, []);
  assert.equal(buffer.size.events, DEFAULT_EVENT_BOUNDS.perAgent + 1);
});

test('a dropped session holds nothing and keeps nothing more', async () => {
  const buffer = new McpEventBuffer();
  const store = buffer.forSession('agent');
  const id = await store.storeEvent('a', note(1));
  store.drop();
  await store.storeEvent('a', note(2));
  assert.equal(await store.getStreamIdForEventId(id), undefined);
  assert.deepEqual(buffer.size, { events: 0, chars: 0 });
});
