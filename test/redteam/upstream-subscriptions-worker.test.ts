/**
 * Red team: an agent takes a worker's upstream subscriptions through many gateways. A gateway
 * bounds what one root agent's sessions watch on it (200), but a worker watches at most 1,000
 * resources per server for every gateway together: an agent with sessions on five gateway
 * replicas filled the worker's 1,000, and every other agent's `resources/subscribe` then got `{}`
 * and was never watched. The gateway now names the root agent in its request, and the worker
 * bounds each agent's share over every gateway: the agent gets 200, another agent is still watched.
 *
 * Real pieces: five gateways' upstream subjects and the worker's `UpstreamManager` on one
 * PostgreSQL (the gateways' `NOTIFY`, the worker's `LISTEN`), and an upstream MCP server that keeps
 * what it was asked to watch (test/upstreams/fixtures/watch-server.mjs).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createCatalog } from '../../activities/tools/catalog';
import { UpstreamManager, type NamedUpstream } from '../../activities/upstreams';
import { requestUpstreamSubscription } from '../../audit/upstream-listing';
import { MAX_WATCHED_PER_AGENT, publishedUpstreamSubjects, type UpstreamSubjects } from '../../gateway/mcp/upstream-subjects';
import { eventually } from '../support/eventually';
import { createTestDatabase, type TestDatabase } from '../support/servers';
import { policyOf } from '../upstreams/stack';

const FIXTURE = require.resolve('../upstreams/fixtures/watch-server.mjs');
const SERVER = { name: 'docs', command: process.execPath, args: [FIXTURE], env: {}, timeoutMs: 10_000, maxAttempts: 1, sensitive: {} } as NamedUpstream;
const POLICY = policyOf({
  name: 'redteam-worker-subscriptions',
  upstreamResources: { docs: ['docs://guide/*'] },
  budget: { actions: 10, writes: 5, critical: 1, readOnlyAt: 0.8 },
});
const GATEWAYS = 5;

describe("an agent takes a worker's upstream subscriptions through many gateways", () => {
  let db: TestDatabase;
  let manager: UpstreamManager | undefined;
  const gateways: UpstreamSubjects[] = [];
  const lines: string[] = [];
  before(async () => {
    db = await createTestDatabase('redteam_worker_subscriptions');
    manager = new UpstreamManager({ servers: [SERVER], catalog: createCatalog([], { database: db.pool }), publish: db.pool, markers: db.pool, log: (line) => lines.push(line) });
    await manager.start();
    for (let i = 0; i < GATEWAYS; i++) gateways.push(publishedUpstreamSubjects(db.pool, async () => POLICY, { ttlMs: 0, renewMs: 600_000 }));
  });
  after(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await manager?.close();
    await db?.drop();
  });

  /** The URIs the upstream server was asked to watch and still watches. */
  async function subscribed(): Promise<string[]> {
    const r: CallToolResult = await manager!.connection('docs')!.callTool('subscribed', {}, { signal: AbortSignal.timeout(10_000), timeoutMs: 10_000 });
    return JSON.parse((r.content[0] as { text: string }).text) as string[];
  }

  it('is watched for its share only, and another agent is watched', async () => {
    // The worker's LISTEN is in place once a request reaches the server (one sent before then went nowhere).
    await eventually(
      async () => {
        await requestUpstreamSubscription(db.pool, 'docs', 'docs://guide/probe', 'probe-bot');
        return (await subscribed()).includes('docs://guide/probe');
      },
      { what: "the worker's LISTEN" },
    );
    for (const [g, gateway] of gateways.entries()) {
      for (let i = 0; i < MAX_WATCHED_PER_AGENT; i++) {
        const w = await gateway.subscribe({ sessionId: `s-fleet-${g}`, policyHash: 'the policy' }, `docs://guide/fleet-${g}-${i}`, i % 2 ? 'fleet-bot' : 'fleet-bot/child');
        assert.ok(w !== undefined && w !== 'full', `gateway ${g} refused subscription ${i}: ${String(w)}`);
      }
    }
    const other = await gateways[0]!.subscribe({ sessionId: 's-other', policyHash: 'the policy' }, 'docs://guide/other', 'other-bot');
    assert.ok(other !== undefined && other !== 'full', String(other));

    // Every request has been handled once each is either watched upstream or logged as not watched.
    const asked = 1 + GATEWAYS * MAX_WATCHED_PER_AGENT + 1;
    const notWatched = () => lines.filter((l) => l.includes('is not watched'));
    const watched = await eventually(
      async () => {
        const now = await subscribed();
        return now.length + notWatched().length === asked && now;
      },
      { what: 'every subscription request handled' },
    );
    assert.ok(watched.includes('docs://guide/other'), "the other agent's resource is watched");
    assert.equal(watched.filter((u) => u.startsWith('docs://guide/fleet-')).length, 200);
    assert.equal(notWatched().length, GATEWAYS * MAX_WATCHED_PER_AGENT - 200);
    assert.equal(notWatched().filter((l) => l.startsWith('upstream `docs`: already watching 200 resources for agent `fleet-bot`: `docs://guide/fleet-')).length, notWatched().length);
  });
});
