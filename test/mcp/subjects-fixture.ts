/**
 * What the tests of upstream resources and prompts share: the real `@modelcontextprotocol/server-everything`
 * (stdio) behind the worker, a policy that classifies some of its resources and prompts, and a
 * TypeScript SDK client on `/mcp` that has declared its intent.
 */
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { npmServer, policyOf, startUpstreamStack, type UpstreamStack } from '../upstreams/stack';

export const EVERYTHING = npmServer('everything', '@modelcontextprotocol/server-everything', ['stdio']);

/** Static documents and dynamic text resources, three of the four prompts; the blob resources and `resource-prompt` are left out. */
export const SUBJECTS_POLICY = policyOf({
  name: 'mcp-subjects-test',
  upstreamTools: {
    'everything.echo': { effect: 'read', idempotent: true },
    'everything.trigger-long-running-operation': { effect: 'read' },
    'everything.gzip-file-as-resource': { effect: 'read' },
    'everything.toggle-subscriber-updates': { effect: 'write' },
  },
  // Its annotations make it destructive (approval by default): this test runs it on its own.
  tools: { 'everything.gzip-file-as-resource': { tier: 'autonomous' }, 'everything.toggle-subscriber-updates': { tier: 'autonomous' } },
  upstreamResources: { everything: ['demo://resource/static/document/*', 'demo://resource/dynamic/text/*'] },
  upstreamPrompts: { everything: ['simple-prompt', 'args-prompt', 'completable-prompt'] },
  budget: { actions: 200, writes: 100, critical: 50, readOnlyAt: 0.95 },
  intent: { reviewBelow: 0 },
  approvers: { groups: { 'on-call': ['alice'] }, default: { groups: ['on-call'], timeoutMinutes: 15 } },
});

export function startSubjectsStack(area: string): Promise<UpstreamStack> {
  return startUpstreamStack(area, [EVERYTHING], SUBJECTS_POLICY);
}

/** A TypeScript SDK client with its intent declared; its Gatehouse session id. */
export async function sdkAgent(stack: UpstreamStack, intent: string): Promise<{ readonly client: Client; readonly sessionId: string }> {
  const client = new Client({ name: 'subjects-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(stack.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${stack.token}` } } }));
  const declared = await client.callTool({ name: 'gatehouse_declare_intent', arguments: { intent } });
  const s = declared.structuredContent as { status?: string; sessionId?: string } | undefined;
  assert.equal(s?.status, 'declared', JSON.stringify(declared));
  return { client, sessionId: String(s.sessionId) };
}

/** The rules of each `decided` event of a tool in a session, in order. */
export async function decidedRules(stack: UpstreamStack, sessionId: string, tool: string): Promise<string[][]> {
  const r = await stack.h.audit.pool.query<{ decision: { reasons: { rule: string }[] } }>("SELECT decision FROM events WHERE session_id = $1 AND tool = $2 AND kind = 'decided' ORDER BY seq", [sessionId, tool]);
  return r.rows.map((row) => row.decision.reasons.map((x) => x.rule));
}
