/**
 * `/mcp` with the MCP TypeScript SDK's own `Client` over Streamable HTTP: the scenario, a held
 * call awaited (progress notifications, then a person denies it), a forbidden transition, and
 * requests without or with another agent's credential.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { testTrust } from '../support/trust';
import { runForbiddenTransition, runScenario } from './scenario';
import { eventKinds, startMcpStack, type McpStack } from './stack';

let stack: McpStack;
before(async () => {
  stack = await startMcpStack('mcp_http');
});
after(async () => {
  await stack?.close();
});

function connect(token: string): { client: Client; transport: StreamableHTTPClientTransport } {
  const transport = new StreamableHTTPClientTransport(stack.mcpUrl, { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  return { client: new Client({ name: 'mcp-http-test', version: '1.0.0' }), transport };
}

test('the SDK client over Streamable HTTP: tools, intent, executed, held, awaited, denied by a transition', async () => {
  const { client, transport } = connect(stack.token);
  await client.connect(transport);
  try {
    const { sessionId, approvalId } = await runScenario(client, stack);

    // Wait for the held call; when the first progress notification arrives, a person denies it.
    let progressSeen = 0;
    const awaited = (await client.callTool({ name: 'gatehouse_await_approval', arguments: { approvalId, timeoutSeconds: 120 } }, CallToolResultSchema, {
      timeout: 130_000,
      onprogress: () => {
        progressSeen += 1;
        if (progressSeen === 1) void stack.h.vote(sessionId, approvalId, 'alice', false, { reason: 'not while the audit runs' });
      },
    })) as CallToolResult;
    assert.ok(progressSeen >= 1);
    assert.equal(awaited.isError, true);
    assert.equal((awaited.structuredContent as { status: string }).status, 'denied');
    assert.match((awaited.content[0] as { text: string }).text, /not while the audit runs/);
    assert.equal(await stack.ledgerRows('billing.deleteRecords'), 0);
    assert.ok(!(await eventKinds(stack.h, sessionId, 'billing.deleteRecords')).includes('executed'));

    await runForbiddenTransition(client, stack, sessionId);

    // Another agent's credential cannot use this MCP session.
    const other = await testTrust().credential('other-bot', 'eng-012');
    const stolen = await fetch(stack.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${other}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': transport.protocolVersion ?? '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/call', params: { name: 'billing.query', arguments: {} } }),
    });
    assert.equal(stolen.status, 403);
  } finally {
    await transport.terminateSession();
    await client.close();
  }
});

test('no credential, or a forged one: 401 before anything else', async () => {
  const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
  for (const headers of [{}, { authorization: 'Bearer not-a-jwt' }] as Record<string, string>[]) {
    const r = await fetch(stack.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(init) });
    assert.equal(r.status, 401);
    assert.equal(((await r.json()) as { type: string }).type, 'urn:gatehouse:problem:unauthorized');
  }
  const { client, transport } = connect('not-a-jwt');
  await assert.rejects(client.connect(transport));
});
