/**
 * A gateway's upstream subjects against a real PostgreSQL, with one published server `docs` whose
 * `docs://guide/*` resources the policy classifies, and the worker's subscription channel watched:
 * what the gateway asks a worker to watch is seen as a worker sees it.
 */
import assert from 'node:assert/strict';
import { listenUpstream, publishUpstreamSubjects } from '../../audit/upstream-listing';
import { publishedUpstreamSubjects, type UpstreamSubjects, type Watch } from '../../gateway/mcp/upstream-subjects';
import { createTestDatabase } from '../support/servers';
import { policyOf } from '../upstreams/stack';

const POLICY = policyOf({
  name: 'subscriptions',
  upstreamResources: { docs: ['docs://guide/*'] },
  budget: { actions: 10, writes: 5, critical: 1, readOnlyAt: 0.8 },
});

export interface SubscriptionsFixture {
  readonly subjects: UpstreamSubjects;
  /** How many times the worker's channel carried a request for `docs <uri>`. */
  times(uri: string): number;
  /** A session's subscription that must be taken. */
  watch(uri: string, sessionId?: string, agent?: string): Promise<Watch>;
  close(): Promise<void>;
}

export async function subscriptionsFixture(area: string, renewMs: number): Promise<SubscriptionsFixture> {
  const db = await createTestDatabase(area);
  await publishUpstreamSubjects(db.pool, 'docs', { resources: [{ uri: 'docs://guide/a' }, { uri: 'docs://guide/b' }], templates: [], prompts: [] });
  const asked: string[] = [];
  const stopListening = listenUpstream(db.pool, { subscribe: (server, uri) => void asked.push(`${server} ${uri}`) });
  const subjects = publishedUpstreamSubjects(db.pool, async () => POLICY, { ttlMs: 0, renewMs });
  return {
    subjects,
    times: (uri) => asked.filter((a) => a === `docs ${uri}`).length,
    async watch(uri, sessionId = 's-1', agent = 'agent-a') {
      const w = await subjects.subscribe({ sessionId, policyHash: 'the policy' }, uri, agent);
      assert.ok(w !== undefined && w !== 'full', `${uri}: ${String(w)}`);
      return w;
    },
    async close() {
      await subjects.close();
      await stopListening();
      await db.drop();
    },
  };
}
