/**
 * Red team: what an agent tries to read of a gated upstream MCP server. The policy lets it read the
 * server's static documents (`demo://resource/static/document/*`) and nothing else; the agent wants
 * the dynamic resources beside them. The server resolves dot segments in a URI (shown first, against
 * the server alone), so `…/document/../../dynamic/text/1` *is* a dynamic resource to it: every
 * spelling of that walk — plain, percent-encoded, backslashed, through a completion, through the
 * synthetic tool called directly — is refused by the session's own policy before anything reaches
 * the server.
 *
 * Each case: nothing read upstream (no ledger row), no `executed` event, a `resource.unclassified`
 * alert in the session's trace, and `audit verify` holds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { StdioUpstream } from '../../activities/upstreams';
import { policyOf, startUpstreamStack, type UpstreamStack } from '../upstreams/stack';
import { decidedRules, EVERYTHING, sdkAgent } from '../mcp/subjects-fixture';
import { loadTrace } from '../../audit/trace';
import { assertAuditVerifies, assertNotExecuted } from './attacker';

const READ = 'everything.resources/read';
const POLICY = policyOf({
  name: 'redteam-resources',
  upstreamResources: { everything: ['demo://resource/static/document/*'] },
  upstreamPrompts: { everything: ['simple-prompt'] },
  intent: { reviewBelow: 0 },
  budget: { actions: 200, writes: 100, critical: 50, readOnlyAt: 0.95 },
});

/** What the agent sends, all aimed at `demo://resource/dynamic/text/1`. */
const WALKS = [
  'demo://resource/static/document/../../dynamic/text/1',
  'demo://resource/static/document/features.md/../../../dynamic/text/1',
  'demo://resource/static/document/..%2F..%2Fdynamic%2Ftext%2F1',
  'demo://resource/static/document/%2e%2e/%2E%2E/dynamic/text/1',
  'demo://resource/static/document/%252e%252e%252f%252e%252e%252fdynamic%252ftext%252f1',
  'demo://resource/static/document/..\\..\\dynamic\\text\\1',
  'demo://resource/static/document/.%2e/.%2e/dynamic/text/1',
  'demo://resource/static/document/x\n/../../dynamic/text/1',
  'demo://resource/dynamic/text/1',
];

let stack: UpstreamStack;
before(async () => {
  stack = await startUpstreamStack('redteam_mcp_resources', [EVERYTHING], POLICY);
});
after(async () => {
  await stack?.close();
});

describe('an agent walks out of the resources its policy allows', () => {
  it('the walk is real: the server alone resolves the dot segments to a dynamic resource', async () => {
    const direct = new Client({ name: 'redteam-direct', version: '1.0.0' });
    const server = EVERYTHING as StdioUpstream;
    await direct.connect(new StdioClientTransport({ command: server.command, args: [...server.args], stderr: 'ignore' }));
    try {
      const r = await direct.readResource({ uri: WALKS[0]! });
      assert.match(JSON.stringify(r.contents), /Resource 1: This is a plaintext resource/);
    } finally {
      await direct.close();
    }
  });

  it('every spelling is refused by the session policy, alerted, and nothing is read upstream', async () => {
    const { client, sessionId } = await sdkAgent(stack, 'read the everything server documentation');
    try {
      // What is allowed works: the gate is not simply closed.
      const ok = await client.readResource({ uri: 'demo://resource/static/document/features.md' });
      assert.ok(ok.contents.length > 0);
      const rowsBefore = await stack.ledgerRows(READ);
      const executedBefore = (await stack.h.events(sessionId)).filter((e) => e.kind === 'executed').length;

      for (const uri of WALKS) {
        await assert.rejects(client.readResource({ uri }), (err: unknown) => {
          assert.ok(err instanceof McpError, `${uri}: ${String(err)}`);
          assert.equal(err.code, -32002, `${uri}: ${err.message}`);
          assert.match(err.message, /resource\.unclassified/, uri);
          return true;
        });
      }
      // A completion over a template the policy does not classify: the same rule.
      await assert.rejects(client.complete({ ref: { type: 'ref/resource', uri: 'demo://resource/dynamic/text/{resourceId}' }, argument: { name: 'resourceId', value: '1' } }), (err: unknown) => err instanceof McpError && err.code === -32002);
      // The synthetic tool called directly, as a tool: the workflow's same check.
      const direct = (await client.callTool({ name: READ, arguments: { uri: WALKS[2] } })) as CallToolResult;
      assert.equal(direct.isError, true);
      assert.deepEqual((direct.structuredContent as { reasons: { rule: string }[] }).reasons.map((r) => r.rule), ['resource.unclassified']);

      assert.equal(await stack.ledgerRows(READ), rowsBefore, 'nothing was read upstream');
      assert.equal(await stack.ledgerRows('everything.completion/complete'), 0);
      const events = await stack.h.events(sessionId);
      assert.equal(events.filter((e) => e.kind === 'executed').length, executedBefore, 'no refused read executed');
      const decided = await decidedRules(stack, sessionId, READ);
      assert.deepEqual(decided.slice(1), Array.from({ length: WALKS.length + 1 }, () => ['resource.unclassified']), 'every walk and the direct tool call decided as `resource.unclassified`');
      // The trace (what `gatehouse trace` and the console show) raises the refusal as an alert, counted once per tool.
      const trace = await loadTrace(stack.h.audit.pool, sessionId);
      const alerts = trace.alerts.filter((a) => a.kind === 'resource.unclassified').map((a) => a.message);
      assert.equal(alerts.length, 2, JSON.stringify(trace.alerts));
      assert.match(alerts[0]!, /^everything\.resources\/read denied: resource `demo:\/\/resource\/static\/document\/\.\.\/\.\.\/dynamic\/text\/1` of `everything` is refused: it holds a dot segment.* \(×10; the latest: everything\.resources\/read denied: .*\)$/);
      assert.match(alerts[1]!, /^everything\.completion\/complete denied: resource `demo:\/\/resource\/dynamic\/text\/\{resourceId\}` of `everything` is not classified by the policy/);
      await assertAuditVerifies(stack.h);
    } finally {
      await client.close();
    }
  });

  it('a prompt that would embed a dynamic resource is refused; nothing runs', async () => {
    const { client, sessionId } = await sdkAgent(stack, 'get a prompt of the everything server');
    try {
      await assert.rejects(client.getPrompt({ name: 'everything.resource-prompt', arguments: { resourceType: 'Text', resourceId: '1' } }), (err: unknown) => err instanceof McpError && err.code === -32602 && /prompt\.unclassified/.test(err.message));
      await assertNotExecuted(stack.h, sessionId);
      assert.equal(await stack.ledgerRows('everything.prompts/get'), 0);
      await assertAuditVerifies(stack.h);
    } finally {
      await client.close();
    }
  });
});
