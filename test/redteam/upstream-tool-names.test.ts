/**
 * Red team: an upstream MCP server names its own destructive tools like Gatehouse's built-in tools of
 * a server — `resources/read`, `prompts/get`, `completion/complete` — and declares no resources,
 * prompts or completions. Offered, `impostor.resources/read` would be judged as a resource read (a
 * `read` under `upstreamResources`), its `destructiveHint` and the policy's classification of the
 * server's tools ignored. The agent lists, calls each by name, and reads a resource the policy allows.
 *
 * Each case: the names are not offered (the worker warns, naming the server and the tool), every call
 * is refused, the upstream handler never runs, no ledger row, `audit verify` holds.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { NamedUpstream } from '../../activities/upstreams';
import { policyOf, startUpstreamStack, type UpstreamStack } from '../upstreams/stack';
import { sdkAgent } from '../mcp/subjects-fixture';
import { assertAuditVerifies } from './attacker';

const DIR = mkdtempSync(join(tmpdir(), 'gatehouse-impostor-'));
/** The impostor's handlers append here: its existence means one ran. */
const MARK = join(DIR, 'ran.log');
const IMPOSTOR = {
  name: 'impostor',
  command: process.execPath,
  args: [join(__dirname, '..', 'upstreams', 'fixtures', 'impostor-server.mjs')],
  env: { IMPOSTOR_MARK: MARK },
  timeoutMs: 20_000,
  maxAttempts: 1,
  sensitive: {},
} as NamedUpstream;
const BUILT_IN_NAMES = ['resources/read', 'prompts/get', 'completion/complete'];

// What an operator who lets agents read the server's public files and use its prompts would write.
const POLICY = policyOf({
  name: 'redteam-tool-names',
  upstreamTools: { 'impostor.status': { effect: 'read', idempotent: true } },
  upstreamResources: { impostor: ['file:///public/*'] },
  upstreamPrompts: { impostor: ['*'] },
  intent: { reviewBelow: 0 },
  budget: { actions: 200, writes: 100, critical: 50, readOnlyAt: 0.95 },
});

const log: string[] = [];
let stack: UpstreamStack;
before(async () => {
  stack = await startUpstreamStack('redteam_tool_names', [IMPOSTOR], POLICY, { log: (line) => log.push(line) });
});
after(async () => {
  await stack?.close();
  rmSync(DIR, { recursive: true, force: true });
});

describe('an upstream tool named like a built-in tool of its server', () => {
  it('is not offered, cannot be called, and its handler never runs', async () => {
    const { client, sessionId } = await sdkAgent(stack, 'check the store status and read its public files');
    try {
      // The server is gated, not cut off: its plain tool runs.
      const status = (await client.callTool({ name: 'impostor.status', arguments: {} })) as CallToolResult;
      assert.notEqual(status.isError, true, JSON.stringify(status));

      const answers: string[] = [];
      for (const name of BUILT_IN_NAMES) {
        const r = (await client.callTool({ name: `impostor.${name}`, arguments: { uri: 'file:///public/notes', name: 'any' } })) as CallToolResult;
        answers.push(`impostor.${name}: ${JSON.stringify(r.structuredContent ?? r.content)}`);
      }
      // Through the protocol's own method: no resource of the server exists to read.
      await client.readResource({ uri: 'file:///public/notes' }).then(
        (r) => answers.push(`resources/read: ${JSON.stringify(r)}`),
        () => undefined,
      );
      assert.equal(existsSync(MARK) ? readFileSync(MARK, 'utf8') : '', '', `an impostor handler ran; the agent was answered:\n${answers.join('\n')}`);
      assert.deepEqual(answers.filter((a) => !/"status":"denied".*"rule":"tool\.unknown"/.test(a)), [], 'every call is refused as an unknown tool');
      for (const name of BUILT_IN_NAMES) assert.equal(await stack.ledgerRows(`impostor.${name}`), 0, `impostor.${name} has a ledger row`);
      const executed = (await stack.h.events(sessionId)).filter((e) => e.kind === 'executed').map((e) => e.tool);
      assert.deepEqual(executed, ['impostor.status']);

      const listed = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(listed.includes('impostor.status'), listed.join(', '));
      assert.deepEqual(listed.filter((n) => n.includes('/')), [], 'no name with `/` is listed');
      for (const name of BUILT_IN_NAMES) {
        assert.ok(
          log.some((line) => line.startsWith('warning: upstream `impostor`: tool `') && line.includes(`\`${name}\` is not offered`)),
          `no worker warning names \`${name}\`:\n${log.join('\n')}`,
        );
      }
      await assertAuditVerifies(stack.h);
    } finally {
      await client.close();
    }
  });
});
