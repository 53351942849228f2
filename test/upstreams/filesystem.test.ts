/**
 * The official `@modelcontextprotocol/server-filesystem` (npm, over stdio) behind Gatehouse,
 * driven by the Python `mcp` client through the gateway's `/mcp`. Every assertion about effects
 * is made on the upstream's own state: the files on disk.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readUpstreamTools } from '../../audit/upstream-listing';
import { upstreamRuleFor } from '../../policies';
import { npmServer, policyOf, PyAgent, startUpstreamStack, type UpstreamStack } from './stack';

const scratch = mkdtempSync(join(tmpdir(), 'gh-upstream-fs-'));
const POLICY = policyOf({
  name: 'mcp-filesystem-test',
  upstreamTools: {
    'filesystem.read_*': { effect: 'read', idempotent: true },
    'filesystem.list_*': { effect: 'read', idempotent: true },
    'filesystem.get_file_info': { effect: 'read' },
    // The server marks both destructive: the policy's `write` cannot loosen that, so both need approval.
    'filesystem.write_file': { effect: 'write' },
    'filesystem.move_file': { effect: 'write' },
  },
  tiers: { read: { default: 'autonomous' }, write: { default: 'autonomous' }, destructive: { default: 'approval' } },
  transitions: [{ from: 'filesystem.list_directory', to: 'filesystem.move_file', within: { steps: 10 }, reason: 'listing a folder then moving what was listed' }],
  budget: { actions: 200, writes: 100, critical: 50, readOnlyAt: 0.95 },
  intent: { reviewBelow: 0 },
  approvers: { groups: { 'on-call': ['alice', 'bob'] }, default: { groups: ['on-call'], timeoutMinutes: 15 } },
});

let stack: UpstreamStack;
before(async () => {
  mkdirSync(join(scratch, 'docs'));
  mkdirSync(join(scratch, 'protected'));
  mkdirSync(join(scratch, 'inbox'));
  writeFileSync(join(scratch, 'docs', 'readme.txt'), 'hello from the scratch folder\n');
  writeFileSync(join(scratch, 'inbox', 'report.txt'), 'quarterly numbers\n');
  stack = await startUpstreamStack('upstream_fs', [npmServer('filesystem', '@modelcontextprotocol/server-filesystem', [scratch], { sensitive: { write_file: ['content'] } })], POLICY);
});
after(async () => {
  await stack?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('server-filesystem through Gatehouse', () => {
  it('lists the upstream tools with their own JSON Schemas, without the gateway holding any upstream', async () => {
    const agent = await stack.agent('read the docs folder and file a report');
    const tools = await agent.list();
    assert.ok(tools['gatehouse_declare_intent'] && tools['gatehouse_await_approval']);
    const write = tools['filesystem.write_file'];
    assert.ok(write, `tools: ${Object.keys(tools).join(', ')}`);
    assert.deepEqual(write.inputSchema.required, ['path', 'content']);
    assert.deepEqual(Object.keys(write.inputSchema.properties as object).sort(), ['content', 'path']);
    assert.equal(write.annotations?.destructiveHint, true);
    assert.ok(tools['filesystem.list_directory'] && tools['filesystem.move_file'] && tools['filesystem.read_text_file']);
  });

  it("lists only the upstream tools the session's policy classifies, once the session exists", async () => {
    // The server publishes edit_file (and more) that this policy does not classify: unknown, always denied.
    const published = (await readUpstreamTools(stack.h.audit.pool)).map((t) => t.name);
    assert.ok(published.includes('filesystem.edit_file') && published.includes('filesystem.create_directory'), published.join(', '));

    const agent = await PyAgent.open(stack.mcpUrl, stack.token);
    try {
      // No intent yet, so no session and no policy: only Gatehouse's own tools.
      assert.deepEqual(Object.keys(await agent.list()).sort(), ['gatehouse_await_approval', 'gatehouse_declare_intent']);
      const declared = await agent.call('gatehouse_declare_intent', { intent: 'look around the scratch folder' });
      assert.equal(declared.structured?.status, 'declared', declared.text);
      const listed = Object.keys(await agent.list()).filter((n) => n.startsWith('filesystem.'));
      const classified = published.filter((n) => upstreamRuleFor(POLICY, n) !== undefined);
      assert.deepEqual(listed.sort(), classified.sort());
      assert.ok(listed.includes('filesystem.write_file') && listed.includes('filesystem.get_file_info'));
      assert.equal(listed.includes('filesystem.edit_file'), false);
      assert.equal(listed.includes('filesystem.create_directory'), false);
    } finally {
      await agent.end();
    }
  });

  it('runs reads on their own, recorded in the audit trail', async () => {
    const agent = await stack.agent('read the docs folder');
    const read = await agent.call('filesystem.read_text_file', { path: join(scratch, 'docs', 'readme.txt') });
    assert.equal(read.isError, false, read.text);
    assert.equal(read.structured?.status, 'executed');
    assert.match(JSON.stringify(read.structured?.result), /hello from the scratch folder/);
    // The agent gets the server's own content blocks, not a JSON dump of them.
    assert.equal(read.text, 'hello from the scratch folder\n');
    assert.deepEqual(await stack.eventKinds(agent.sessionId, 'filesystem.read_text_file'), ['proposed', 'decided', 'executed']);
  });

  it('holds write_file for approval: nothing on disk until approved, then written exactly once, content redacted in the trail', async () => {
    const agent = await stack.agent('write the release notes into the protected folder');
    const target = join(scratch, 'protected', 'notes.txt');
    const held = await agent.call('filesystem.write_file', { path: target, content: 'release 1.2: fixes' });
    assert.equal(held.isError, false, held.text);
    assert.equal(held.structured?.status, 'held');
    const approvalId = String(held.structured?.approvalId);
    assert.equal(existsSync(target), false);
    assert.equal(await stack.ledgerRows('filesystem.write_file'), 0);
    assert.deepEqual(await stack.eventKinds(agent.sessionId, 'filesystem.write_file'), ['proposed', 'decided', 'approval-requested']);

    await stack.h.vote(agent.sessionId, approvalId, 'alice', true, { reason: 'notes are fine' });
    const done = await agent.call('gatehouse_await_approval', { approvalId, timeoutSeconds: 60 });
    assert.equal(done.structured?.status, 'executed', done.text);
    assert.equal(readFileSync(target, 'utf8'), 'release 1.2: fixes');
    assert.equal(await stack.ledgerRows('filesystem.write_file'), 1);
    const started = await stack.h.production.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM upstream_calls WHERE tool = 'filesystem.write_file'");
    assert.equal(started.rows[0]!.n, 1);
    const events = (await stack.h.events(agent.sessionId)).filter((e) => e.tool === 'filesystem.write_file');
    assert.equal(events.filter((e) => e.kind === 'executed').length, 1);
    for (const e of events.filter((x) => x.args !== null)) assert.equal((e.args as { content?: string }).content, '[REDACTED: 18 characters]', `${e.kind} shows the content's length only`);
  });

  it('denies move_file after list_directory as a forbidden transition: the file stays where it was', async () => {
    const agent = await stack.agent('tidy the inbox');
    const listed = await agent.call('filesystem.list_directory', { path: join(scratch, 'inbox') });
    assert.equal(listed.structured?.status, 'executed', listed.text);
    assert.match(JSON.stringify(listed.structured?.result), /report\.txt/);
    const moved = await agent.call('filesystem.move_file', { source: join(scratch, 'inbox', 'report.txt'), destination: join(scratch, 'docs', 'report.txt') });
    assert.equal(moved.isError, true);
    assert.equal(moved.structured?.status, 'denied');
    assert.ok(moved.structured?.reasons?.some((r) => r.rule === 'transition.forbidden'), moved.text);
    assert.equal(existsSync(join(scratch, 'inbox', 'report.txt')), true);
    assert.equal(existsSync(join(scratch, 'docs', 'report.txt')), false);
    assert.equal(await stack.ledgerRows('filesystem.move_file'), 0);
  });

  it('refuses bad input before anything runs: schema violations, unclassified tools, tools of unconfigured servers', async () => {
    const agent = await stack.agent('read a file');
    const noPath = await agent.call('filesystem.read_text_file', { tail: 'three' });
    assert.equal(noPath.isError, true);
    assert.equal(noPath.structured?.status, 'denied');
    assert.deepEqual(noPath.structured?.reasons?.map((r) => r.rule), ['tool.args']);
    assert.match(noPath.text, /invalid arguments for tool `filesystem\.read_text_file`/);
    assert.equal(await stack.ledgerRows('filesystem.read_text_file'), 1); // only the earlier test's read

    // edit_file is listed by the server but the policy does not classify it: unknown, denied, file untouched.
    const edit = await agent.call('filesystem.edit_file', { path: join(scratch, 'docs', 'readme.txt'), edits: [{ oldText: 'hello', newText: 'bye' }] });
    assert.equal(edit.structured?.status, 'denied');
    assert.deepEqual(edit.structured?.reasons?.map((r) => r.rule), ['tool.unknown']);
    assert.equal(readFileSync(join(scratch, 'docs', 'readme.txt'), 'utf8'), 'hello from the scratch folder\n');

    const github = await agent.call('github.create_issue', { title: 'x' });
    assert.equal(github.structured?.status, 'denied');
    assert.deepEqual(github.structured?.reasons?.map((r) => r.rule), ['tool.unknown']);

    // The session goes on.
    const read = await agent.call('filesystem.get_file_info', { path: join(scratch, 'docs', 'readme.txt') });
    assert.equal(read.structured?.status, 'executed', read.text);
  });
});
