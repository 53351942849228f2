/**
 * Red team: resuming another session's stream. `/mcp` keeps each MCP session's SSE events so its
 * client can resume with `Last-Event-ID`; an agent that learned (or guesses) the victim's MCP
 * session id and event ids tries to have the victim's events — a read's production data — replayed
 * to itself: with its own credential on the victim's session, with another credential of the
 * victim's own agent, and on its own session with the victim's ids or made-up ones. Each gets a 4xx
 * and none of the victim's data; the victim's held delete never runs, and `audit verify` holds.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { call } from '../mcp/scenario';
import { answerTo, openSse } from '../mcp/sse';
import { AGENT, DELETE_ARGS, startMcpStack, type McpStack } from '../mcp/stack';
import { assertAuditVerifies, assertNotExecuted, productionSnapshot, trust } from './attacker';

let stack: McpStack;
let baseline: Record<string, unknown>;
before(async () => {
  stack = await startMcpStack('redteam_mcp_resume');
  baseline = await productionSnapshot(stack.h);
});
after(async () => {
  await stack?.close();
});

const MCP = { accept: 'application/json, text/event-stream', 'content-type': 'application/json', 'mcp-protocol-version': '2025-11-25' };

async function connect(token: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(stack.mcpUrl, { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'redteam-resume', version: '1' });
  await client.connect(transport);
  return { client, transport };
}

test('an agent cannot have another session\'s stream replayed to it, by its id or a guessed one', async () => {
  const victim = await connect(stack.token);
  const thief = await trust.credential('thief-resume-bot', 'eng-031');
  const sameAgentOtherKey = await trust.credential(AGENT.agentId, AGENT.owner);
  const attacker = await connect(thief);
  try {
    const declared = await call(victim.client, 'gatehouse_declare_intent', { intent: 'read last month\'s billing records, then clean up the test ones' });
    const sessionId = declared.structuredContent.sessionId as string;
    // The victim's read, on a stream of its own: its result (production data) is kept for resumption.
    const read = await openSse(stack.mcpUrl, {
      method: 'POST',
      headers: { ...MCP, authorization: `Bearer ${stack.token}`, 'mcp-session-id': victim.transport.sessionId! },
      body: { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'billing.query', arguments: { testOnly: true, limit: 3 } } },
    });
    const { answer, events } = await answerTo(read, 5);
    read.drop();
    const rows = ((answer.result as { structuredContent: { result: { records: { id: string; customerId: string }[] } } }).structuredContent.result.records);
    assert.equal(rows.length, 3);
    // The first record as it appears in a JSON-RPC message: what a replay would carry.
    const secret = `"id":"${rows[0]!.id}","customerId":"${rows[0]!.customerId}"`;
    assert.equal(events.length, 2, JSON.stringify(events));
    const [priming, result] = events.map((e) => e.id!) as [string, string];
    const held = await call(victim.client, 'billing.deleteRecords', DELETE_ARGS);
    assert.equal(held.structuredContent.status, 'held');
    const proposalSeq = Number(String(held.structuredContent.approvalId).split(':').pop());

    const streamOf = priming.split('_')[0]!;
    const attempts: [string, string, Record<string, string>, number][] = [
      ['another agent on the victim\'s MCP session', thief, { 'mcp-session-id': victim.transport.sessionId!, 'last-event-id': priming }, 403],
      ['the victim\'s agent with another of its credentials', sameAgentOtherKey, { 'mcp-session-id': victim.transport.sessionId!, 'last-event-id': priming }, 403],
      ['the victim\'s event id on the attacker\'s own session', thief, { 'mcp-session-id': attacker.transport.sessionId!, 'last-event-id': priming }, 400],
      ['the victim\'s last event id on the attacker\'s own session', thief, { 'mcp-session-id': attacker.transport.sessionId!, 'last-event-id': result }, 400],
      ['a guessed id on the victim\'s stream', thief, { 'mcp-session-id': attacker.transport.sessionId!, 'last-event-id': `${streamOf}_0` }, 400],
      ['a made-up id', thief, { 'mcp-session-id': attacker.transport.sessionId!, 'last-event-id': '1' }, 400],
    ];
    for (const [what, token, headers, status] of attempts) {
      const s = await openSse(stack.mcpUrl, { method: 'GET', headers: { ...MCP, authorization: `Bearer ${token}`, ...headers } });
      // A refusal is a JSON body, never an event stream.
      if (s.text === undefined) s.drop();
      assert.equal(s.status, status, `${what}: ${s.text ?? 'an event stream'}`);
      assert.ok(s.text !== undefined && !s.text.includes(secret), `${what}: ${s.text ?? 'an event stream'}`);
    }

    // The victim itself resumes its read's stream and gets the result, so the store did hold it.
    const own = await openSse(stack.mcpUrl, { method: 'GET', headers: { ...MCP, authorization: `Bearer ${stack.token}`, 'mcp-session-id': victim.transport.sessionId!, 'last-event-id': priming } });
    assert.equal(own.status, 200, own.text);
    assert.ok((await answerTo(own, 5)).events.some((e) => e.data.includes(secret)));
    own.drop();

    assert.deepEqual(await productionSnapshot(stack.h), baseline);
    await assertNotExecuted(stack.h, sessionId, proposalSeq);
    await assertAuditVerifies(stack.h);
  } finally {
    await attacker.transport.terminateSession();
    await victim.transport.terminateSession();
    await attacker.client.close();
    await victim.client.close();
  }
});
