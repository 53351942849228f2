/**
 * The gateway asks again, every `renewMs`, for the upstream resources its MCP sessions watch, and
 * stops once none watches one: a worker drops what no gateway asks for (its bound then holds what
 * is watched now), and a restarted worker, which remembers nothing, learns them again. Against a
 * real PostgreSQL: what the gateway asks is seen on the worker's channel, as a worker sees it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listenUpstream, publishUpstreamSubjects } from '../../audit/upstream-listing';
import { publishedUpstreamSubjects, type UpstreamSubjects } from '../../gateway/mcp/upstream-subjects';
import { eventually } from '../support/eventually';
import { createTestDatabase, type TestDatabase } from '../support/servers';
import { policyOf } from '../upstreams/stack';

const POLICY = policyOf({
  name: 'subscription-renewal',
  upstreamResources: { docs: ['docs://guide/*'] },
  budget: { actions: 10, writes: 5, critical: 1, readOnlyAt: 0.8 },
});
const SESSION = { sessionId: 's-renewal', policyHash: 'the policy' };

describe('subscriptions the gateway renews', () => {
  let db: TestDatabase;
  let subjects: UpstreamSubjects;
  /** Every request the worker's channel carried, as `server uri`. */
  const asked: string[] = [];
  let stopListening: () => Promise<void>;

  before(async () => {
    db = await createTestDatabase('subscription_renewal');
    await publishUpstreamSubjects(db.pool, 'docs', { resources: [{ uri: 'docs://guide/a' }, { uri: 'docs://guide/b' }], templates: [], prompts: [] });
    stopListening = listenUpstream(db.pool, { subscribe: (server, uri) => void asked.push(`${server} ${uri}`) });
    subjects = publishedUpstreamSubjects(db.pool, async () => POLICY, { ttlMs: 0, renewMs: 150 });
  });
  after(async () => {
    await subjects?.close();
    await stopListening?.();
    await db?.drop();
  });

  const times = (what: string) => asked.filter((a) => a === what).length;

  it('asks again while a session watches, and stops once none does', async () => {
    const first = (await subjects.subscribe(SESSION, 'docs://guide/a'))!;
    assert.equal(first.server, 'docs');
    // Sent before the test's LISTEN was in place or not, the renewals arrive.
    await eventually(() => times('docs docs://guide/a') > 0, { what: 'a request on the worker channel' });
    assert.equal(await subjects.subscribe(SESSION, 'docs://unclassified/x'), undefined, 'a resource the policy does not classify is not watched');

    // Two sessions watch `b`: it is renewed until the second stops.
    const b1 = (await subjects.subscribe(SESSION, 'docs://guide/b'))!;
    const b2 = (await subjects.subscribe({ ...SESSION, sessionId: 's-other' }, 'docs://guide/b'))!;
    await eventually(() => times('docs docs://guide/a') >= 3 && times('docs docs://guide/b') >= 4, { what: 'renewals of both' });

    first.stop();
    first.stop(); // twice is once
    b1.stop();
    const aAtStop = times('docs docs://guide/a');
    const bAtStop = times('docs docs://guide/b');
    await eventually(() => times('docs docs://guide/b') >= bAtStop + 3, { what: 'renewals of `b`, still watched by the other session' });
    assert.ok(times('docs docs://guide/a') <= aAtStop + 2, `\`a\` is not asked for once no session watches it (beyond a request in flight) (${times('docs docs://guide/a') - aAtStop} more)`);

    b2.stop();
    const bAtLastStop = times('docs docs://guide/b');
    const a2 = (await subjects.subscribe(SESSION, 'docs://guide/a'))!;
    await eventually(() => times('docs docs://guide/a') >= aAtStop + 4, { what: 'renewals of `a`, watched again' });
    assert.ok(times('docs docs://guide/b') <= bAtLastStop + 2, '`b` is not asked for once no session watches it (beyond a request in flight)');
    a2.stop();
  });
});
