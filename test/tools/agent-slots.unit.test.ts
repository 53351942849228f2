/**
 * `AgentSlots` (activities/tools/agent-slots.ts), pure: an agent past its share waits in order while
 * other agents go on; a freed slot goes straight to the next waiter (nobody slips in between); a
 * waiter whose call is cancelled leaves the queue; giving a slot back twice gives it back once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentSlots } from '../../activities/tools/agent-slots';

const settled = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
};

test('past its share an agent waits, in order, while another agent goes on; a freed slot is handed over', async () => {
  const slots = new AgentSlots(1);
  const first = await slots.acquire('hog');
  const second = slots.acquire('hog');
  const third = slots.acquire('hog');
  assert.equal(await settled(second), false);
  const other = await slots.acquire('other');
  first();
  first();
  const secondRelease = await second;
  assert.equal(await settled(third), false, 'the slot went to the second; giving the first back twice freed one');
  assert.equal(await settled(slots.acquire('hog')), false, 'nobody slips in ahead of the waiting');
  secondRelease();
  (await third)();
  other();
});

test('a waiter whose call is cancelled leaves the queue with the reason; an aborted signal waits for nothing', async () => {
  const slots = new AgentSlots(1);
  const held = await slots.acquire('hog');
  const abort = new AbortController();
  const cancelled = slots.acquire('hog', abort.signal);
  const next = slots.acquire('hog');
  abort.abort(new Error('halted'));
  await assert.rejects(cancelled, /halted/);
  held();
  (await next)();
  const gone = new AbortController();
  gone.abort(new Error('already'));
  const busy = await slots.acquire('hog');
  await assert.rejects(slots.acquire('hog', gone.signal), /already/);
  busy();
  (await slots.acquire('hog'))();
});
