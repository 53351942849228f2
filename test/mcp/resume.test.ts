/**
 * Resumable streams on `/mcp`: every SSE stream opens with a priming event (an id and a `retry`),
 * and a client that lost a stream while `gatehouse_await_approval` waited on a held call resumes it
 * with `Last-Event-ID` and receives the approval's result — by hand, and by the SDK client's own
 * reconnection through a connection that breaks.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SSE_RETRY_MS } from '../../gateway/mcp';
import { eventually } from '../support/eventually';
import { call } from './scenario';
import { answerTo, droppingProxy, openSse } from './sse';
import { DELETE_ARGS, eventKinds, startMcpStack, type McpStack } from './stack';

let stack: McpStack;
before(async () => {
  stack = await startMcpStack('mcp_resume');
});
after(async () => {
  await stack?.close();
});

/** An MCP session with its intent declared and the incident's delete held; its ids. */
async function held(client: Client): Promise<{ sessionId: string; approvalId: string }> {
  const declared = await call(client, 'gatehouse_declare_intent', { intent: 'clean up last month\'s test billing records' });
  const sessionId = declared.structuredContent.sessionId as string;
  const deletion = await call(client, 'billing.deleteRecords', DELETE_ARGS);
  assert.equal(deletion.structuredContent.status, 'held', JSON.stringify(deletion));
  return { sessionId, approvalId: deletion.structuredContent.approvalId as string };
}

test('a stream dropped while awaiting approval is resumed with Last-Event-ID and carries the result', async () => {
  const transport = new StreamableHTTPClientTransport(stack.mcpUrl, { requestInit: { headers: { authorization: `Bearer ${stack.token}` } } });
  const client = new Client({ name: 'mcp-resume-test', version: '1.0.0' });
  await client.connect(transport);
  try {
    const { sessionId, approvalId } = await held(client);
    const rowsBefore = await stack.billingRows();
    const headers = {
      authorization: `Bearer ${stack.token}`,
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
      'mcp-session-id': transport.sessionId!,
      'mcp-protocol-version': '2025-11-25',
    };
    const awaiting = await openSse(stack.mcpUrl, {
      method: 'POST',
      headers,
      body: { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'gatehouse_await_approval', arguments: { approvalId, timeoutSeconds: 120 }, _meta: { progressToken: 'p7' } } },
    });
    assert.equal(awaiting.status, 200, awaiting.text);
    const priming = await awaiting.next();
    assert.ok(priming?.id, 'the stream opens with an event id');
    assert.deepEqual({ data: priming.data, retry: priming.retry }, { data: '', retry: SSE_RETRY_MS });
    awaiting.drop();

    // While nobody listens, a person approves and the held call runs.
    await stack.h.vote(sessionId, approvalId, 'alice', true);
    await eventually(async () => (await eventKinds(stack.h, sessionId, 'billing.deleteRecords')).includes('executed'), { what: 'the approved delete to run' });

    const resumed = await openSse(stack.mcpUrl, { method: 'GET', headers: { ...headers, 'last-event-id': priming.id } });
    assert.equal(resumed.status, 200, resumed.text);
    const { answer, events } = await answerTo(resumed, 7);
    const outcome = (answer.result as CallToolResult).structuredContent as { status: string; result: { deleted: number } };
    assert.equal(outcome.status, 'executed', JSON.stringify(answer));
    assert.ok(outcome.result.deleted > 0);
    assert.equal(await stack.billingRows(), rowsBefore - outcome.result.deleted);
    assert.equal(await stack.ledgerRows('billing.deleteRecords'), 1);
    // What was replayed came after the priming event, each with its own id; the priming event is not sent again.
    assert.ok(events.every((e) => e.id !== undefined && e.id !== priming.id && e.data !== ''), JSON.stringify(events));
    resumed.drop();

    // An id this session never gave out (or another stream's made-up one) replays nothing.
    const forged = await openSse(stack.mcpUrl, { method: 'GET', headers: { ...headers, 'last-event-id': `${priming.id.split('_')[0]}_9999` } });
    assert.equal(forged.status, 400, forged.text);
  } finally {
    await transport.terminateSession();
    await client.close();
  }
});

test('the SDK client resumes on its own after its connection breaks during the wait', async () => {
  const proxy = await droppingProxy(stack.mcpUrl);
  const transport = new StreamableHTTPClientTransport(proxy.url, { requestInit: { headers: { authorization: `Bearer ${stack.token}` } } });
  const client = new Client({ name: 'mcp-resume-sdk-test', version: '1.0.0' });
  await client.connect(transport);
  try {
    const { sessionId, approvalId } = await held(client);
    let dropped = 0;
    const awaited = (await client.callTool({ name: 'gatehouse_await_approval', arguments: { approvalId, timeoutSeconds: 120 } }, CallToolResultSchema, {
      timeout: 130_000,
      onprogress: () => {
        if (dropped > 0) return;
        // The first progress proves the wait is on: cut the network, then a person approves.
        dropped += 1;
        proxy.drop();
        void stack.h.vote(sessionId, approvalId, 'alice', true);
      },
    })) as CallToolResult;
    assert.equal(dropped, 1);
    assert.equal((awaited.structuredContent as { status: string }).status, 'executed', JSON.stringify(awaited));
    assert.ok(proxy.resumes.length >= 1, 'the client came back with Last-Event-ID');
    assert.equal(await stack.ledgerRows('billing.deleteRecords'), 2);
    assert.deepEqual((await eventKinds(stack.h, sessionId, 'billing.deleteRecords')).filter((k) => k === 'executed'), ['executed']);
  } finally {
    await transport.terminateSession();
    await client.close();
    await proxy.close();
  }
});
