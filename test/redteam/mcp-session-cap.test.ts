/**
 * Red team: MCP sessions that outlive their open-session slot. An MCP session takes a slot at
 * `initialize`; its Gatehouse session can be ended through `/v1` (or halted) with the same
 * credential, which frees the slot. The attacker loops — initialize, declare the intent, end
 * through `/v1` — to keep many more MCP sessions (transport, SDK server, event store: the gateway's
 * memory) than its cap. With `openSessions: 2`: an MCP session whose Gatehouse session ended
 * through this gateway is closed with it; one found over at the cap is closed when its slot is
 * freed; and MCP sessions whose Gatehouse sessions ended elsewhere still count, so the third
 * `initialize` is a 429 until one is closed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { sessionWorkflowId } from '../../workflows/contract';
import { call } from '../mcp/scenario';
import { listenGateway, startMcpStack, type McpStack } from '../mcp/stack';
import { trust } from './attacker';

let stack: McpStack;
before(async () => {
  stack = await startMcpStack('redteam_mcp_session_cap', { openSessions: 2 });
});
after(async () => {
  await stack?.close();
});

const MCP = { accept: 'application/json, text/event-stream', 'content-type': 'application/json', 'mcp-protocol-version': '2025-11-25' };
const INTENT = 'read last month\'s billing records';

interface Opened {
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;
  /** The MCP session id. */
  readonly mcpSessionId: string;
  /** The Gatehouse session its declared intent started. */
  readonly sessionId: string;
}

/** Initializes an MCP session and declares its intent (its Gatehouse session starts). */
async function openDeclared(token: string): Promise<Opened> {
  const transport = new StreamableHTTPClientTransport(stack.mcpUrl, { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'redteam-session-cap', version: '1' });
  await client.connect(transport);
  const declared = await call(client, 'gatehouse_declare_intent', { intent: INTENT });
  return { client, transport, mcpSessionId: transport.sessionId!, sessionId: declared.structuredContent.sessionId as string };
}

/** The status a `ping` on an MCP session gets: 200 while it is open, 404 once it is gone. */
async function pingStatus(token: string, mcpSessionId: string): Promise<number> {
  const r = await fetch(stack.mcpUrl, { method: 'POST', headers: { ...MCP, authorization: `Bearer ${token}`, 'mcp-session-id': mcpSessionId }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) });
  await r.text();
  return r.status;
}

async function initialize(token: string): Promise<Response> {
  const body = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
  return fetch(stack.mcpUrl, { method: 'POST', headers: { ...MCP, authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
}

async function v1(baseUrl: string, token: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${baseUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function slots(agentId: string): Promise<string[]> {
  return (await stack.app.gateway.admissions.held(agentId)).map((h) => h.sessionId).sort();
}

test('an MCP session whose Gatehouse session was ended through /v1 is closed with it: the loop keeps none', async () => {
  const token = await trust.credential('ender-bot', 'eng-041');
  const opened: Opened[] = [];
  try {
    for (let i = 0; i < 6; i++) {
      const o = await openDeclared(token);
      opened.push(o);
      assert.equal(await pingStatus(token, o.mcpSessionId), 200);
      const ended = await v1(stack.baseUrl, token, `/v1/sessions/${o.sessionId}/end`, {});
      assert.equal(ended.status, 200, await ended.text());
      assert.equal(await pingStatus(token, o.mcpSessionId), 404, `MCP session ${i + 1} outlived its ended Gatehouse session`);
    }
    assert.deepEqual(await slots('ender-bot'), []);
  } finally {
    for (const o of opened) await o.client.close();
  }
});

test('MCP sessions of halted Gatehouse sessions close when the cap finds them over and frees their slots', async () => {
  const token = await trust.credential('halter-bot', 'eng-042');
  const opened: Opened[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const o = await openDeclared(token);
      opened.push(o);
      const halted = await v1(stack.baseUrl, token, `/v1/sessions/${o.sessionId}/halt`, { reason: 'stop' });
      assert.equal(halted.status, 202, await halted.text());
      await stack.h.gh.client.workflow.getHandle(sessionWorkflowId(o.sessionId)).result();
    }
    // Halted, the sessions keep their slots until the cap is reached: then they are found over.
    assert.deepEqual(await slots('halter-bot'), opened.map((o) => o.sessionId).sort());
    const third = await initialize(token);
    assert.equal(third.status, 200, await third.text());
    for (const o of opened) assert.equal(await pingStatus(token, o.mcpSessionId), 404);
    assert.equal((await slots('halter-bot')).length, 1);
  } finally {
    for (const o of opened) await o.client.close();
  }
});

test('MCP sessions whose Gatehouse sessions ended on another replica still count: the third initialize is a 429', async () => {
  const token = await trust.credential('elsewhere-bot', 'eng-043');
  const other = await listenGateway(stack.h, { openSessions: 2 });
  const opened: Opened[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const o = await openDeclared(token);
      opened.push(o);
      const ended = await v1(other.baseUrl, token, `/v1/sessions/${o.sessionId}/end`, {});
      assert.equal(ended.status, 200, await ended.text());
    }
    assert.deepEqual(await slots('elsewhere-bot'), []);
    const third = await initialize(token);
    const problem = (await third.json()) as { type: string; limit: number };
    assert.deepEqual([third.status, problem.type, problem.limit], [429, 'urn:gatehouse:problem:too-many-sessions', 2]);
    assert.match(String(third.headers.get('retry-after')), /^[1-9]\d*$/);
    // The refused initialize gave its slot back.
    assert.deepEqual(await slots('elsewhere-bot'), []);
    // The agent closes one of its MCP sessions: there is room again.
    await opened[0]!.transport.terminateSession();
    const fourth = await initialize(token);
    assert.equal(fourth.status, 200, await fourth.text());
  } finally {
    for (const o of opened) await o.client.close();
    await other.app.close();
  }
});
