/**
 * The scenario every MCP client test runs with the MCP TypeScript SDK's own `Client` (over
 * Streamable HTTP or stdio): list tools, declare intent, a read that runs, a delete that is held
 * and never runs, a forbidden transition refused as a tool error.
 */
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { DELETE_ARGS, eventKinds, type McpStack } from './stack';

export type Structured = Record<string, unknown> & { status: string };

export async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult & { structuredContent: Structured }> {
  const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
  assert.ok(r.structuredContent, `${name}: no structured content in ${JSON.stringify(r)}`);
  return r as CallToolResult & { structuredContent: Structured };
}

export async function checkToolList(client: Client): Promise<void> {
  const { tools } = await client.listTools();
  const byName = new Map(tools.map((t) => [t.name, t]));
  assert.ok(byName.has('gatehouse_declare_intent') && byName.has('gatehouse_await_approval'));
  const query = byName.get('billing.query')!;
  assert.equal(query.inputSchema.type, 'object');
  assert.deepEqual(Object.keys(query.inputSchema.properties ?? {}).sort(), ['customerId', 'limit', 'period', 'testOnly']);
  assert.deepEqual([query.annotations?.readOnlyHint, query.annotations?.destructiveHint], [true, false]);
  assert.match(query.description ?? '', /Effect: read/);
  const del = byName.get('billing.deleteRecords')!;
  assert.deepEqual([del.annotations?.readOnlyHint, del.annotations?.destructiveHint], [false, true]);
  assert.match(del.description ?? '', /Effect: destructive/);
  const unmount = byName.get('volumes.unmount')!;
  assert.deepEqual([unmount.annotations?.readOnlyHint, unmount.annotations?.destructiveHint], [false, false]);
}

/** Runs the scenario; returns the Gatehouse session id and the held approval id. */
export async function runScenario(client: Client, stack: McpStack): Promise<{ sessionId: string; approvalId: string }> {
  await checkToolList(client);
  const rowsBefore = await stack.billingRows();

  const early = await call(client, 'billing.deleteRecords', DELETE_ARGS);
  assert.equal(early.isError, true);
  assert.equal((early.structuredContent.reasons as { rule: string }[])[0]!.rule, 'intent.undeclared');

  const declared = await call(client, 'gatehouse_declare_intent', { intent: 'clean up last month\'s test billing records' });
  assert.equal(declared.isError, undefined);
  const sessionId = declared.structuredContent.sessionId as string;
  assert.match(sessionId, /^[0-9a-f-]{36}$/);

  const query = await call(client, 'billing.query', { testOnly: true, limit: 5 });
  assert.equal(query.structuredContent.status, 'executed', JSON.stringify(query));
  assert.equal(query.isError, undefined);
  assert.equal((query.structuredContent.result as { returned: number }).returned, 5);

  const held = await call(client, 'billing.deleteRecords', DELETE_ARGS);
  assert.equal(held.isError, undefined, JSON.stringify(held));
  assert.equal(held.structuredContent.status, 'held');
  const approvalId = held.structuredContent.approvalId as string;
  assert.equal(approvalId, `${sessionId}:2`);
  assert.match((held.content[0] as { text: string }).text, new RegExp(`^held for approval \`${approvalId}\``));

  // While it waits, the session takes no other call: the agent is told to await it.
  const blocked = await call(client, 'volumes.list', {});
  assert.equal(blocked.isError, true);
  assert.equal((blocked.structuredContent.reasons as { rule: string }[])[0]!.rule, 'session.awaiting-approval');

  assert.equal(await stack.billingRows(), rowsBefore);
  assert.equal(await stack.ledgerRows('billing.deleteRecords'), 0);
  assert.deepEqual(await eventKinds(stack.h, sessionId, 'billing.deleteRecords'), ['proposed', 'decided', 'approval-requested']);
  return { sessionId, approvalId };
}

/** After the held call was denied: a forbidden transition is refused as a tool error. */
export async function runForbiddenTransition(client: Client, stack: McpStack, sessionId: string): Promise<void> {
  const list = await call(client, 'volumes.list', {});
  assert.equal(list.structuredContent.status, 'executed', JSON.stringify(list));
  const unmount = await call(client, 'volumes.unmount', { volumeId: 'vol-scratch01' });
  assert.equal(unmount.isError, true);
  assert.equal(unmount.structuredContent.status, 'denied');
  const rules = (unmount.structuredContent.reasons as { rule: string; message: string }[]).map((r) => r.rule);
  assert.ok(rules.includes('transition.forbidden'), `rules: ${rules.join(', ')}`);
  assert.match((unmount.content[0] as { text: string }).text, /transition\.forbidden: /);
  assert.deepEqual(await eventKinds(stack.h, sessionId, 'volumes.unmount'), ['proposed', 'decided']);
}
