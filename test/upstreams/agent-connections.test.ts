/**
 * Connections per root agent of a server isolated per agent: opened on an agent's first call,
 * closed once idle or, least recently used first, past the bound, and never while a call runs
 * over one. Fake connections: what is asserted is which are open and which were closed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { AgentConnections } from '../../activities/upstreams/agent-connections';
import type { UpstreamConnection } from '../../activities/upstreams/connection';
import { eventually } from '../support/eventually';

/** A connection that answers with its own name, and holds a call while `hold` is unresolved. */
function fake(name: string, closed: string[], hold?: Promise<void>): UpstreamConnection {
  return {
    name,
    start: async () => undefined,
    close: async () => void closed.push(name),
    callTool: async (): Promise<CallToolResult> => {
      await hold;
      return { content: [{ type: 'text', text: name }] };
    },
  } as unknown as UpstreamConnection;
}

const OPTS = { signal: new AbortController().signal, timeoutMs: 1_000 };

async function answer(p: Promise<CallToolResult>): Promise<string> {
  return ((await p).content[0] as { text: string }).text;
}

describe('connections per agent', () => {
  it("opens one per root agent on its first call, and a call naming no agent goes over the shared one", async () => {
    const closed: string[] = [];
    const pool = new AgentConnections({ shared: fake('shared', closed), open: (agent) => fake(`own:${agent}`, closed) });
    assert.equal(await answer(pool.callTool('t', {}, { ...OPTS, agent: 'a' })), 'own:a');
    assert.equal(await answer(pool.callTool('t', {}, { ...OPTS, agent: 'a' })), 'own:a');
    assert.equal(await answer(pool.callTool('t', {}, { ...OPTS, agent: 'b' })), 'own:b');
    assert.equal(await answer(pool.callTool('t', {}, OPTS)), 'shared');
    assert.deepEqual(pool.agents, ['a', 'b']);
    await pool.close();
    assert.deepEqual(closed.sort(), ['own:a', 'own:b']);
  });

  it('past the bound closes the least recently used idle one, never one with a call running', async () => {
    const closed: string[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const pool = new AgentConnections({ shared: fake('shared', closed), open: (agent) => fake(agent, closed, agent === 'busy' ? held : undefined), max: 2 });
    const running = answer(pool.callTool('t', {}, { ...OPTS, agent: 'busy' }));
    await pool.callTool('t', {}, { ...OPTS, agent: 'old' });
    await pool.callTool('t', {}, { ...OPTS, agent: 'new' });
    assert.deepEqual(closed, ['old'], "the idle one goes; the busy one, though used first, stays");
    await pool.callTool('t', {}, { ...OPTS, agent: 'newer' });
    assert.deepEqual(closed, ['old', 'new']);
    assert.deepEqual(pool.agents.sort(), ['busy', 'newer']);
    release();
    assert.equal(await running, 'busy');
    await pool.close();
  });

  it('closes a connection idle for the idle time, and the next call opens a new one', async () => {
    const closed: string[] = [];
    let opened = 0;
    const pool = new AgentConnections({ shared: fake('shared', closed), open: (agent) => fake(`${agent}#${++opened}`, closed), idleMs: 20 });
    await pool.callTool('t', {}, { ...OPTS, agent: 'a' });
    await eventually(() => closed.includes('a#1'), { what: 'the idle connection closed' });
    assert.deepEqual(pool.agents, []);
    assert.equal(await answer(pool.callTool('t', {}, { ...OPTS, agent: 'a' })), 'a#2');
    await pool.close();
  });
});
