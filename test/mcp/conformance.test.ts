/**
 * The MCP project's conformance suite (`@modelcontextprotocol/conformance`, every server scenario)
 * against the gateway's `/mcp` and against the reference server (`server-everything`): Gatehouse
 * must pass every scenario the reference passes. Scenarios that need the suite's own test tools
 * fail on both; the table lists them.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freePort } from '../../worker/devstack/ports';
import { bearerProxy, compare, runSuite, startReference, table } from '../../scripts/conformance-run';
import { startMcpStack, type McpStack } from './stack';

let stack: McpStack;
before(async () => {
  // The suite opens an MCP session per scenario and leaves without closing it: each holds a slot
  // of the open-session cap until it idles out, so the 32 scenarios need more than the default 20;
  // it runs them at once, past the default burst of 100 requests of one agent.
  stack = await startMcpStack('mcp_conformance', { openSessions: 100, requestsPerSecond: 1000, burst: 1000 });
});
after(async () => {
  await stack?.close();
});

test('every scenario the reference server passes passes through Gatehouse', async (t) => {
  const proxy = await bearerProxy(stack.mcpUrl, stack.token);
  const reference = await startReference(await freePort());
  try {
    const rows = compare(await runSuite(reference.url.href), await runSuite(proxy.url.href));
    t.diagnostic(`\n${table(rows)}`);
    assert.ok(rows.length >= 30, `only ${rows.length} scenarios ran`);
    assert.deepEqual(rows.filter((r) => r.regression).map((r) => `${r.scenario}: ${r.message ?? ''}`), []);
    // What the issue named: the DNS-rebinding scenario and the capabilities a host expects.
    for (const name of ['server-initialize', 'dns-rebinding-protection', 'logging-set-level', 'resources-list', 'prompts-list', 'tools-list']) {
      assert.equal(rows.find((r) => r.scenario === name)?.gatehouse, 'pass', name);
    }
  } finally {
    await reference.close();
    await proxy.close();
  }
});
