/**
 * The official `@modelcontextprotocol/server-memory` (npm, over stdio) behind Gatehouse, driven by
 * the Python `mcp` client through `/mcp`: reading the graph then deleting entities is a forbidden
 * transition, and deletes have a per-session budget. Assertions read the server's own graph file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { npmServer, policyOf, startUpstreamStack, type UpstreamStack } from './stack';

const dir = mkdtempSync(join(tmpdir(), 'gh-upstream-memory-'));
const GRAPH = join(dir, 'memory.jsonl');
const POLICY = policyOf({
  name: 'mcp-memory-test',
  upstreamTools: {
    'memory.read_graph': { effect: 'read', idempotent: true },
    'memory.search_nodes': { effect: 'read', idempotent: true },
    'memory.open_nodes': { effect: 'read', idempotent: true },
    'memory.create_entities': { effect: 'write' },
    // Its blast radius: how many of the named entities exist, counted by open_nodes before the decision.
    'memory.delete_entities': { effect: 'destructive', estimate: { tool: 'memory.open_nodes', args: { names: '$args.entityNames' }, count: 'entities' } },
  },
  tiers: { read: { default: 'autonomous' }, write: { default: 'autonomous' }, destructive: { default: 'approval' } },
  // Deletes run on their own, but at most two per session per hour: the delete budget.
  tools: { 'memory.delete_entities': { tier: 'autonomous', rateLimit: { max: 2, perSeconds: 3600 }, blastRadius: { approvalAbove: 1 } } },
  transitions: [{ from: 'memory.read_graph', to: 'memory.delete_entities', within: { steps: 10 }, reason: 'reading the whole graph then deleting from it' }],
  budget: { actions: 200, writes: 100, critical: 50, readOnlyAt: 0.95 },
  intent: { reviewBelow: 0 },
  approvers: { groups: { 'on-call': ['alice', 'bob'] }, default: { groups: ['on-call'], timeoutMinutes: 15 } },
});

/** Entity names in the server's graph file. */
function entities(): string[] {
  return readFileSync(GRAPH, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; name?: string })
    .filter((r) => r.type === 'entity')
    .map((r) => r.name!)
    .sort();
}

let stack: UpstreamStack;
before(async () => {
  const seed = ['alpha', 'beta', 'gamma', 'delta'].map((name) => JSON.stringify({ type: 'entity', name, entityType: 'service', observations: [`${name} runs`] }));
  writeFileSync(GRAPH, `${seed.join('\n')}\n`);
  stack = await startUpstreamStack('upstream_memory', [npmServer('memory', '@modelcontextprotocol/server-memory', [], { env: { MEMORY_FILE_PATH: GRAPH } })], POLICY);
});
after(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('server-memory through Gatehouse', () => {
  it('denies delete_entities after read_graph as a forbidden transition: the graph keeps the entity', async () => {
    const agent = await stack.agent('review the service graph');
    const graph = await agent.call('memory.read_graph', {});
    assert.equal(graph.structured?.status, 'executed', graph.text);
    assert.match(JSON.stringify(graph.structured?.result), /alpha/);
    const del = await agent.call('memory.delete_entities', { entityNames: ['alpha'] });
    assert.equal(del.structured?.status, 'denied');
    assert.ok(del.structured?.reasons?.some((r) => r.rule === 'transition.forbidden'), del.text);
    assert.deepEqual(entities(), ['alpha', 'beta', 'delta', 'gamma']);
    assert.equal(await stack.ledgerRows('memory.delete_entities'), 0);
  });

  it('runs two deletes and refuses the third by the delete budget', async () => {
    const agent = await stack.agent('remove retired services from the graph');
    const first = await agent.call('memory.delete_entities', { entityNames: ['alpha'] });
    assert.equal(first.structured?.status, 'executed', first.text);
    assert.deepEqual(entities(), ['beta', 'delta', 'gamma']);
    const second = await agent.call('memory.delete_entities', { entityNames: ['beta'] });
    assert.equal(second.structured?.status, 'executed', second.text);
    const third = await agent.call('memory.delete_entities', { entityNames: ['gamma'] });
    assert.equal(third.structured?.status, 'denied');
    assert.deepEqual(third.structured?.reasons?.map((r) => r.rule), ['rate.tool']);
    assert.deepEqual(entities(), ['delta', 'gamma']);
    assert.equal(await stack.ledgerRows('memory.delete_entities'), 2);
    // Writes are not deletes: the session may still add.
    const created = await agent.call('memory.create_entities', { entities: [{ name: 'epsilon', entityType: 'service', observations: ['new'] }] });
    assert.equal(created.structured?.status, 'executed', created.text);
    assert.deepEqual(entities(), ['delta', 'epsilon', 'gamma']);
  });

  it('refuses arguments that violate the upstream schema, and the graph is unchanged', async () => {
    const agent = await stack.agent('remove a retired service');
    const bad = await agent.call('memory.delete_entities', { entityNames: 'gamma' });
    assert.equal(bad.structured?.status, 'denied');
    assert.deepEqual(bad.structured?.reasons?.map((r) => r.rule), ['tool.args']);
    assert.match(bad.text, /entityNames: must be array/);
    assert.deepEqual(entities(), ['delta', 'epsilon', 'gamma']);
  });

  it('estimates a delete\'s blast radius with open_nodes: two existing entities wait for a human, a missing one runs', async () => {
    const agent = await stack.agent('remove retired services from the graph');
    const held = await agent.call('memory.delete_entities', { entityNames: ['delta', 'epsilon', 'nobody'] });
    assert.equal(held.structured?.status, 'held', held.text);
    const approvalId = String(held.structured?.approvalId);
    const decided = await stack.h.audit.pool.query<{ decision: { reasons: { rule: string; message: string }[] } }>(
      "SELECT decision FROM events WHERE session_id = $1 AND tool = 'memory.delete_entities' AND kind = 'decided'",
      [agent.sessionId],
    );
    const blast = decided.rows[0]!.decision.reasons.find((r) => r.rule === 'blast-radius.limit');
    assert.match(blast?.message ?? '', /would affect 2 rows or objects/);
    await stack.h.vote(agent.sessionId, approvalId, 'alice', false, { reason: 'not these' });
    const denied = await agent.call('gatehouse_await_approval', { approvalId, timeoutSeconds: 60 });
    assert.equal(denied.structured?.status, 'denied', denied.text);
    assert.deepEqual(entities(), ['delta', 'epsilon', 'gamma']);

    const none = await agent.call('memory.delete_entities', { entityNames: ['nobody'] });
    assert.equal(none.structured?.status, 'executed', none.text);
    assert.deepEqual(entities(), ['delta', 'epsilon', 'gamma']);
  });
});
