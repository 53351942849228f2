/**
 * `/mcp` with the Python `mcp` package (PyPI) as the client: `python/client.py`, run with the
 * project's venv (`npm test` makes it when missing).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { DELETE_ARGS, eventKinds, startMcpStack, type McpStack } from './stack';
import { sessionOfApproval } from '../../client';
import { venvPython } from '../../worker/devstack/python-venv';

const ROOT = join(__dirname, '..', '..');
const PYTHON = venvPython(ROOT);

interface Seen {
  readonly isError: boolean;
  readonly structured: Record<string, unknown> & { status: string };
  readonly text: string;
}

let stack: McpStack;
before(async () => {
  stack = await startMcpStack('mcp_python');
});
after(async () => {
  await stack?.close();
});

test('the Python mcp client: tools, intent, executed, held and denied, a forbidden transition', async () => {
  assert.ok(existsSync(PYTHON), `no Python venv at ${PYTHON}: \`npm test\` makes it; by hand: \`npm run setup:python\``);
  const rowsBefore = await stack.billingRows();
  const child = spawn(PYTHON, [join(__dirname, 'python', 'client.py')], {
    env: { ...process.env, GATEHOUSE_MCP_URL: stack.mcpUrl.href, GATEHOUSE_AGENT_TOKEN: stack.token, GATEHOUSE_DELETE_ARGS: JSON.stringify(DELETE_ARGS) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let done: Record<string, Seen> | undefined;
  for await (const line of createInterface({ input: child.stdout })) {
    const msg = JSON.parse(line) as { held?: { approvalId: string }; done?: Record<string, Seen> };
    if (msg.held) {
      const approvalId = msg.held.approvalId;
      const sessionId = sessionOfApproval(approvalId);
      // Held and not run: production untouched, no execution in the ledger or the audit trail.
      assert.equal(await stack.billingRows(), rowsBefore);
      assert.equal(await stack.ledgerRows('billing.deleteRecords'), 0);
      assert.deepEqual(await eventKinds(stack.h, sessionId, 'billing.deleteRecords'), ['proposed', 'decided', 'approval-requested']);
      await stack.h.vote(sessionId, approvalId, 'alice', false, { reason: 'denied in the python test' });
      child.stdin.write('go\n');
    }
    if (msg.done) done = msg.done;
  }
  assert.equal(await exited, 0, `client.py failed:\n${stderr}`);
  assert.ok(done, `client.py printed no result:\n${stderr}`);

  const tools = done.tools as unknown as Record<string, { readOnlyHint: boolean; destructiveHint: boolean; schemaType: string }>;
  assert.deepEqual(tools['billing.query'], { readOnlyHint: true, destructiveHint: false, schemaType: 'object' });
  assert.deepEqual(tools['billing.deleteRecords'], { readOnlyHint: false, destructiveHint: true, schemaType: 'object' });
  assert.ok(tools['gatehouse_declare_intent'] && tools['gatehouse_await_approval']);
  assert.equal(done.declare!.structured.status, 'declared');
  assert.equal(done.query!.structured.status, 'executed');
  assert.equal(done.delete!.isError, false);
  assert.equal(done.delete!.structured.status, 'held');
  assert.match(done.delete!.text, /^held for approval `/);
  assert.equal(done.awaited!.isError, true);
  assert.equal(done.awaited!.structured.status, 'denied');
  assert.equal(done.list!.structured.status, 'executed');
  assert.equal(done.unmount!.isError, true);
  const rules = (done.unmount!.structured.reasons as { rule: string }[]).map((r) => r.rule);
  assert.ok(rules.includes('transition.forbidden'), `rules: ${rules.join(', ')}`);
  assert.equal(await stack.ledgerRows('billing.deleteRecords'), 0);
  assert.equal(await stack.billingRows(), rowsBefore);
});
