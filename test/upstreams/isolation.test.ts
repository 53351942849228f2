/**
 * One upstream MCP session per root agent (`isolate: agent`). A server that keeps state per MCP
 * session (a browser's page and cookies, a current directory, an open transaction) served one
 * agent's state to another's allowed call: the worker held one connection per server for every
 * agent. The fixture (fixtures/memo-server.mjs) keeps one value per stdio process; the same server
 * is configured twice, shared (the default, documented: every agent sees the one session) and
 * isolated per agent, and two agents with their own credentials call both through `/mcp`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NamedUpstream } from '../../activities/upstreams';
import { testTrust } from '../support/trust';
import { policyOf, PyAgent, startUpstreamStack, type CallSummary, type UpstreamStack } from './stack';

const FIXTURE = require.resolve('./fixtures/memo-server.mjs');
const memo = (name: string, extra: Partial<NamedUpstream> = {}) => ({ name, command: process.execPath, args: [FIXTURE], env: {}, timeoutMs: 10_000, maxAttempts: 1, sensitive: {}, ...extra }) as NamedUpstream;
const POLICY = policyOf({
  name: 'upstream-isolation',
  upstreamTools: { '*.set': { effect: 'write' }, '*.get': { effect: 'read' } },
  tiers: { read: { default: 'autonomous' }, write: { default: 'autonomous' }, destructive: { default: 'approval' } },
  intent: { reviewBelow: 0 },
  budget: { actions: 100, writes: 50, critical: 10, readOnlyAt: 0.95 },
});

/** The text of an executed call's result. */
function text(r: CallSummary): string {
  assert.equal(r.structured?.status, 'executed', r.text);
  return (r.structured.result as { content: { text: string }[] }).content[0]!.text;
}

describe('an upstream server that keeps state per MCP session', () => {
  let stack: UpstreamStack;
  let a: PyAgent;
  let b: PyAgent;
  before(async () => {
    stack = await startUpstreamStack('upstream_isolation', [memo('shared'), memo('own', { isolate: 'agent' })], POLICY);
    a = await stack.agent('keep a value and read it back');
    b = await PyAgent.open(stack.mcpUrl, await testTrust().credential('other-bot', 'eng-008'));
    const declared = await b.call('gatehouse_declare_intent', { intent: 'read a value back' });
    assert.equal(declared.structured?.status, 'declared', declared.text);
  });
  after(async () => {
    await b?.end();
    await stack?.close();
  });

  it("shared (the default): one session for every agent, so B reads what A set", async () => {
    assert.equal(text(await a.call('shared.set', { value: 'alpha' })), 'kept');
    assert.equal(text(await b.call('shared.get', {})), 'alpha');
  });

  it("isolate: agent: B reads its own session, never A's, and A keeps its own", async () => {
    assert.equal(text(await a.call('own.set', { value: 'alpha' })), 'kept');
    assert.equal(text(await b.call('own.get', {})), '');
    assert.equal(text(await b.call('own.set', { value: 'bravo' })), 'kept');
    assert.equal(text(await a.call('own.get', {})), 'alpha');
    assert.deepEqual(stack.upstreams.agentsConnected('own').sort(), ['mcp-bot', 'other-bot']);
    // The shared connection (listing, estimates) holds no agent's state.
    const listing = await stack.upstreams.connection('own')!.callTool('get', {}, { signal: AbortSignal.timeout(10_000), timeoutMs: 10_000 });
    assert.deepEqual(listing.content, [{ type: 'text', text: '' }]);
  });
});
