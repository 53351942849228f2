/**
 * `gatehouse mcp` (the stdio bridge a desktop client launches) with the MCP TypeScript SDK's own
 * `Client` over stdio: the bridge forwards to the gateway's `/mcp` with the agent credential.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { runForbiddenTransition, runScenario } from './scenario';
import { startMcpStack, type McpStack } from './stack';

const ROOT = join(__dirname, '..', '..');

let stack: McpStack;
before(async () => {
  stack = await startMcpStack('mcp_stdio');
});
after(async () => {
  await stack?.close();
});

function bridge(env: Record<string, string>): StdioClientTransport {
  const base: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', GATEHOUSE_STACK_FILE: join(ROOT, '.data', 'no-stack-in-tests.json') };
  return new StdioClientTransport({ command: process.execPath, args: [join(ROOT, 'bin', 'gatehouse.js'), 'mcp'], cwd: ROOT, env: { ...base, ...env }, stderr: 'pipe' });
}

test('the SDK client over stdio through `gatehouse mcp`: held, then approved and executed once', async () => {
  const transport = bridge({ GATEHOUSE_AGENT_TOKEN: stack.token, GATEHOUSE_URL: stack.baseUrl });
  const client = new Client({ name: 'mcp-stdio-test', version: '1.0.0' });
  await client.connect(transport);
  try {
    const { sessionId, approvalId } = await runScenario(client, stack);
    // This time a person approves: the held call runs, once, and its result comes back.
    const rowsBefore = await stack.billingRows();
    await stack.h.vote(sessionId, approvalId, 'alice', true);
    const awaited = await client.callTool({ name: 'gatehouse_await_approval', arguments: { approvalId, timeoutSeconds: 60 } });
    const outcome = awaited.structuredContent as { status: string; result: { deleted: number } };
    assert.equal(outcome.status, 'executed', JSON.stringify(awaited));
    assert.ok(outcome.result.deleted > 0);
    assert.equal(await stack.billingRows(), rowsBefore - outcome.result.deleted);
    assert.equal(await stack.ledgerRows('billing.deleteRecords'), 1);
    await runForbiddenTransition(client, stack, sessionId);
  } finally {
    await client.close();
  }
});

test('`gatehouse mcp` without a credential exits with a clear message', async () => {
  const transport = bridge({ GATEHOUSE_URL: stack.baseUrl });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'mcp-stdio-test', version: '1.0.0' });
  await assert.rejects(client.connect(transport));
  assert.match(stderr, /no agent credential: set `GATEHOUSE_AGENT_TOKEN`/);
});
