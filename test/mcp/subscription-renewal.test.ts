/**
 * The gateway asks again, every `renewMs`, for the upstream resources its MCP sessions watch, and
 * stops once none watches one: a worker drops what no gateway asks for (its bound then holds what
 * is watched now), and a restarted worker, which remembers nothing, learns them again. Against a
 * real PostgreSQL: what the gateway asks is seen on the worker's channel, as a worker sees it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually';
import { subscriptionsFixture, type SubscriptionsFixture } from './subscriptions-fixture';

describe('subscriptions the gateway renews', () => {
  let f: SubscriptionsFixture;
  before(async () => {
    f = await subscriptionsFixture('subscription_renewal', 150);
  });
  after(() => f?.close());

  it('asks again while a session watches, and stops once none does', async () => {
    const A = 'docs://guide/a';
    const B = 'docs://guide/b';
    const first = await f.watch(A);
    assert.equal(first.server, 'docs');
    // Sent before the test's LISTEN was in place or not, the renewals arrive.
    await eventually(() => f.times(A) > 0, { what: 'a request on the worker channel' });
    assert.equal(await f.subjects.subscribe({ sessionId: 's-1', policyHash: 'the policy' }, 'docs://unclassified/x', 'agent-a'), undefined, 'a resource the policy does not classify is not watched');

    // Two sessions watch `b`: it is renewed until the second stops.
    const b1 = await f.watch(B);
    const b2 = await f.watch(B, 's-other');
    await eventually(() => f.times(A) >= 3 && f.times(B) >= 4, { what: 'renewals of both' });

    first.stop();
    first.stop(); // twice is once
    b1.stop();
    const aAtStop = f.times(A);
    const bAtStop = f.times(B);
    await eventually(() => f.times(B) >= bAtStop + 3, { what: 'renewals of `b`, still watched by the other session' });
    assert.ok(f.times(A) <= aAtStop + 2, `\`a\` is not asked for once no session watches it, beyond a request in flight (${f.times(A) - aAtStop} more)`);

    b2.stop();
    const bAtLastStop = f.times(B);
    const a2 = await f.watch(A);
    await eventually(() => f.times(A) >= aAtStop + 4, { what: 'renewals of `a`, watched again' });
    assert.ok(f.times(B) <= bAtLastStop + 2, '`b` is not asked for once no session watches it, beyond a request in flight');
    a2.stop();
  });
});
