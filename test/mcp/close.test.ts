/**
 * Closing an MCP session the way clients do ends its Gatehouse session: the TypeScript SDK's
 * `terminateSession` and the Python `mcp` package's own close (a `DELETE` with
 * `content-type: application/json` and no body). Open sessions are counted before and after: the
 * agent's slots under the open-session cap, and the session workflow's status, with a
 * `session-ended` audit event naming the close. A gateway shutting down right after a close has
 * ended that session first.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { sessionWorkflowId } from '../../workflows/contract';
import { eventually } from '../support/eventually';
import { venvPython } from '../../worker/devstack/python-venv';
import { call } from './scenario';
import { AgentSession } from '../../gateway/mcp/agent-session';
import { randomUUID } from 'node:crypto';
import { AGENT, DELETE_ARGS, listenGateway, startMcpStack, type McpStack } from './stack';

const ROOT = join(__dirname, '..', '..');

let stack: McpStack;
before(async () => {
  stack = await startMcpStack('mcp_close');
});
after(async () => {
  await stack?.close();
});

/** Slots the agent holds under the open-session cap. */
async function openSlots(): Promise<string[]> {
  return (await stack.app.gateway.admissions.held(AGENT.agentId)).map((h) => h.sessionId).sort();
}

/** Waits until the Gatehouse session's workflow completed and its trail ends with `session-ended`. */
async function assertEnded(sessionId: string, reason: RegExp): Promise<void> {
  const status = await eventually(
    async () => {
      const s = (await stack.h.gh.client.workflow.getHandle(sessionWorkflowId(sessionId)).describe()).status.name;
      return s === 'RUNNING' ? undefined : s;
    },
    { what: `session ${sessionId} to end` },
  );
  assert.equal(status, 'COMPLETED');
  const last = (await stack.h.events(sessionId)).at(-1)!;
  assert.equal(last.kind, 'session-ended');
  assert.match(String(last.detail?.reason), reason);
}

test('the TypeScript SDK\'s terminateSession ends the Gatehouse session and frees its slot', async () => {
  const before = await openSlots();
  const transport = new StreamableHTTPClientTransport(stack.mcpUrl, { requestInit: { headers: { authorization: `Bearer ${stack.token}` } } });
  const client = new Client({ name: 'mcp-close-test', version: '1.0.0' });
  await client.connect(transport);
  const declared = await call(client, 'gatehouse_declare_intent', { intent: 'look at last month\'s billing records' });
  const sessionId = declared.structuredContent.sessionId as string;
  assert.deepEqual(await openSlots(), [...before, sessionId].sort());

  await transport.terminateSession();
  await client.close();
  await assertEnded(sessionId, /MCP session closed by the client/);
  await eventually(async () => ((await openSlots()).includes(sessionId) ? undefined : true), { what: 'the slot to be freed' });
  assert.deepEqual(await openSlots(), before);
});

test('the Python mcp client\'s close (DELETE, content-type application/json, no body) ends the Gatehouse session', async () => {
  const before = await openSlots();
  const child = spawn(venvPython(ROOT), [join(__dirname, 'python', 'close_session.py')], {
    env: { ...process.env, GATEHOUSE_MCP_URL: stack.mcpUrl.href, GATEHOUSE_AGENT_TOKEN: stack.token },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let sessionId: string | undefined;
  for await (const line of createInterface({ input: child.stdout })) {
    const msg = JSON.parse(line) as { sessionId?: string };
    if (msg.sessionId) {
      sessionId = msg.sessionId;
      assert.deepEqual(await openSlots(), [...before, sessionId].sort());
      child.stdin.write('go\n');
    }
  }
  assert.equal(await exited, 0, `close_session.py failed:\n${stderr}`);
  assert.ok(sessionId, `close_session.py printed no session:\n${stderr}`);
  await assertEnded(sessionId, /MCP session closed by the client/);
  await eventually(async () => ((await openSlots()).includes(sessionId!) ? undefined : true), { what: 'the slot to be freed' });
  assert.deepEqual(await openSlots(), before);
});

test('any content type with an empty body is no body; a body that is not JSON is refused', async () => {
  const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
  const auth = { authorization: `Bearer ${stack.token}` };
  for (const contentType of ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream']) {
    const before = await openSlots();
    const opened = await fetch(stack.mcpUrl, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify(init) });
    assert.equal(opened.status, 200);
    await opened.text();
    const id = opened.headers.get('mcp-session-id')!;
    assert.equal((await openSlots()).length, before.length + 1, 'initialize takes a slot');
    const closed = await fetch(stack.mcpUrl, { method: 'DELETE', headers: { ...auth, 'content-type': contentType, 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' } });
    assert.equal(closed.status, 200, `${contentType}: ${await closed.text()}`);
    await eventually(async () => ((await openSlots()).length === before.length ? true : undefined), { what: `the slot of an MCP session closed with \`${contentType}\`` });
    const gone = await fetch(stack.mcpUrl, { method: 'DELETE', headers: { ...auth, 'mcp-session-id': id } });
    assert.equal(gone.status, 404);
  }
  // /v1 too: a bodiless POST with a JSON content type reaches the route (its own checks answer).
  const v1 = await fetch(`${stack.baseUrl}/v1/sessions/nope/end`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' } });
  assert.equal(v1.status, 404, await v1.text());
  // A body that is not empty must be JSON.
  const text = await fetch(stack.mcpUrl, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain', accept: 'application/json, text/event-stream' }, body: 'hello' });
  assert.equal(text.status, 415);
  const empty = await fetch(stack.mcpUrl, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', accept: 'application/json, text/event-stream' } });
  assert.equal(empty.status, 400);
  assert.equal(((await empty.json()) as { error: { code: number } }).error.code, -32700);
});

test('a gateway that shuts down right after a client closed its MCP session has ended that session first', async () => {
  const before = await openSlots();
  const second = await listenGateway(stack.h);
  const transport = new StreamableHTTPClientTransport(new URL(`${second.baseUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${stack.token}` } } });
  const client = new Client({ name: 'mcp-close-test', version: '1.0.0' });
  await client.connect(transport);
  const declared = await call(client, 'gatehouse_declare_intent', { intent: 'look at last month\'s billing records' });
  const sessionId = declared.structuredContent.sessionId as string;

  await transport.terminateSession();
  await client.close();
  await second.app.close();
  // No waiting for the slot: the end was accepted, and the slot freed, before the gateway's close
  // resolved (it used to run on, cut off by the closed Temporal connection, leaving the session
  // open and its slot taken).
  assert.deepEqual(await openSlots(), before);
  await assertEnded(sessionId, /MCP session closed by the client/);
});

test('a closed MCP session stops waiting on Temporal for its held call, which stays held for a person', async () => {
  const session = new AgentSession({ agentId: AGENT.agentId, owner: AGENT.owner, policies: [], token: stack.token }, { gatehouse: stack.h.gh, holdWaitMs: 200, progressEveryMs: 60_000 });
  await session.declareIntent({ intent: 'clean up last month\'s test billing records' });
  const proposed = await session.propose('billing.deleteRecords', DELETE_ARGS, 'clean up');
  assert.ok('held' in proposed, JSON.stringify(proposed));
  const sessionId = (await session.sessionId())!;

  session.close();
  // The wait for the held call's outcome was an open Temporal RPC; now it has ended, long before 60 s.
  const waited = await session.awaitApproval(proposed.held.approvalId, 60, undefined, new AbortController().signal);
  assert.equal(waited.isError, true);
  assert.deepEqual((waited.structuredContent as { reasons: { rule: string }[] }).reasons.map((r) => r.rule), ['mcp.closed']);
  const view = await stack.h.gh.session(sessionId).state();
  assert.deepEqual(view.pendingApprovals.map((p) => p.approvalId), [proposed.held.approvalId]);
  await stack.h.vote(sessionId, proposed.held.approvalId, 'alice', false, { reason: 'nobody is waiting' });
  await session.end('test over');
  await assertEnded(sessionId, /test over/);
});

test('an agent cannot pile up held calls past its open-session cap by closing MCP sessions: a held call\'s session keeps its slot', async () => {
  const admissions = stack.app.gateway.admissions;
  const reserved = await admissions.admit(AGENT.agentId, randomUUID());
  const session = new AgentSession({ agentId: AGENT.agentId, owner: AGENT.owner, policies: [], token: stack.token }, { gatehouse: stack.h.gh, holdWaitMs: 200, progressEveryMs: 60_000, admissions }, reserved);
  await session.declareIntent({ intent: 'clean up last month\'s test billing records' });
  const proposed = await session.propose('billing.deleteRecords', DELETE_ARGS, 'clean up');
  assert.ok('held' in proposed, JSON.stringify(proposed));
  const sessionId = (await session.sessionId())!;

  session.close();
  await session.end('MCP session closed by the client');
  assert.ok((await openSlots()).includes(sessionId), 'the held call\'s session still holds its slot');
  await stack.h.vote(sessionId, proposed.held.approvalId, 'alice', false, { reason: 'no' });
  await assertEnded(sessionId, /MCP session closed by the client/);
  await admissions.release(AGENT.agentId, sessionId);
});
