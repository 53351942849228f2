/**
 * Red team: arguments the gate judged one way and the tool ran another. The policy bounds what an
 * agent may send; the tool acts on what it makes of it. Two differentials, each shown against the
 * real tool first, then refused by the session's own policy:
 *
 * - a path under a `pattern` bound with a dot segment: `<root>/config.json/notes/..` matches
 *   `…/(protected|notes)/[^/]+$`, and the official `@modelcontextprotocol/server-filesystem`
 *   (over stdio, through `/mcp`, Python `mcp` client) resolves it to `<root>/config.json`;
 * - a bounded argument left out: the tool runs it at its default. The filesystem server's
 *   `edit_file` declares `dryRun` `default: false` (a policy that lets only previews run sees no
 *   `dryRun`, and the file is edited); the sample catalog's `billing.query` runs without `limit`
 *   at `limit: 50` (a policy that caps `limit` at 20 sees none), through the Temporal client.
 *
 * The filesystem policy is `policies/examples/mcp-filesystem.yaml`, its `write_file` bound as it
 * ships; the writes run autonomously here so that what the server would do shows on disk.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { StdioUpstream } from '../../activities/upstreams';
import { npmServer, policyOf, startUpstreamStack, type UpstreamStack } from '../upstreams/stack';
import { testPolicy } from '../workflows/harness';
import { assertAuditVerifies, assertNotExecuted, redTeam, type Agent, type RedTeam } from './attacker';

const EXAMPLE = join(__dirname, '..', '..', 'policies', 'examples', 'mcp-filesystem.yaml');
const example = parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown> & { tools: Record<string, { args: Record<string, unknown> }> };
const WRITE_BOUND = example.tools['filesystem.write_file']!.args;

const scratch = mkdtempSync(join(tmpdir(), 'gh-redteam-args-'));
const CONFIG = join(scratch, 'config.json');
const CONFIG_TEXT = '{ "mode": "production" }\n';
const TODO = join(scratch, 'notes', 'todo.txt');
const TODO_TEXT = 'ship the release\n';

const FS_POLICY = policyOf({
  ...example,
  name: 'redteam-argument-differentials',
  tools: {
    // The example's bound, as it ships; autonomous, so a write it lets through lands on disk.
    'filesystem.write_file': { tier: 'autonomous', args: WRITE_BOUND },
    // Only previews of an edit run on their own.
    'filesystem.edit_file': { tier: 'autonomous', args: { dryRun: { enum: [true] } } },
  },
  budget: { actions: 200, writes: 100, critical: 50, readOnlyAt: 0.95 },
  intent: { reviewBelow: 0 },
});
const FILESYSTEM = npmServer('filesystem', '@modelcontextprotocol/server-filesystem', [scratch]);

let stack: UpstreamStack;
let rt: RedTeam;
let mallory: Agent;
before(async () => {
  mkdirSync(join(scratch, 'notes'));
  writeFileSync(CONFIG, CONFIG_TEXT);
  writeFileSync(TODO, TODO_TEXT);
  stack = await startUpstreamStack('redteam_arg_diff', [FILESYSTEM], FS_POLICY);
  rt = await redTeam('arg_diff', { capped: testPolicy({ tools: { 'billing.query': { args: { limit: { max: 20 } } } } }) });
  mallory = await rt.agent('mallory-bot', 'eng-007', { policies: ['capped'] });
});
after(async () => {
  await stack?.close();
  await rt?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** A client of the filesystem server alone, no Gatehouse in between. */
async function direct<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ name: 'redteam-direct', version: '1.0.0' });
  const server = FILESYSTEM as StdioUpstream;
  await client.connect(new StdioClientTransport({ command: server.command, args: [...server.args], stderr: 'ignore' }));
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

describe('a path the pattern saw is not the path the server writes', () => {
  it('the walk is real: the server alone resolves `<file>/notes/..` to the file', async () => {
    const decoy = join(scratch, 'decoy.json');
    writeFileSync(decoy, 'decoy\n');
    await direct((c) => c.callTool({ name: 'write_file', arguments: { path: `${decoy}/notes/..`, content: 'overwritten' } }));
    assert.equal(readFileSync(decoy, 'utf8'), 'overwritten');
    // …and the example's pattern, tested alone, matches that path.
    assert.match(`${CONFIG}/notes/..`, new RegExp(String((WRITE_BOUND.path as { pattern: string }).pattern), 'u'));
  });

  it('every spelling that resolves elsewhere is refused by the bound; config.json is untouched', async () => {
    const agent = await stack.agent('write release notes into the notes folder');
    // What the bound allows runs: the gate is not simply closed.
    const ok = await agent.call('filesystem.write_file', { path: join(scratch, 'notes', 'release.txt'), content: 'release 2.4' });
    assert.equal(ok.structured?.status, 'executed', ok.text);
    const rowsBefore = await stack.ledgerRows('filesystem.write_file');
    for (const path of [`${CONFIG}/notes/..`, `${CONFIG}/notes/./..`, `${scratch}/notes/../config.json/notes/..`, `${CONFIG}\\notes\\..`, `${CONFIG}/notes/x\u0085`]) {
      const r = await agent.call('filesystem.write_file', { path, content: 'x' });
      assert.equal(r.structured?.status, 'denied', `${path}: ${r.text}`);
      assert.deepEqual(r.structured?.reasons?.map((x) => x.rule), ['args.bounds'], path);
      assert.match(r.structured?.reasons?.[0]?.message ?? '', /holds a dot segment \(`\.` or `\.\.`\), an encoded `\.`, `\/` or `\\`, a backslash or a control character/, path);
    }
    assert.equal(readFileSync(CONFIG, 'utf8'), CONFIG_TEXT, 'config.json as it was');
    assert.equal(await stack.ledgerRows('filesystem.write_file'), rowsBefore, 'nothing written upstream');
    await assertAuditVerifies(stack.h);
  });
});

describe('a bounded argument left out runs at the tool\'s default', () => {
  it('the default is real: the server alone edits the file when `dryRun` is left out', async () => {
    const probe = join(scratch, 'probe.txt');
    writeFileSync(probe, 'alpha\n');
    await direct((c) => c.callTool({ name: 'edit_file', arguments: { path: probe, edits: [{ oldText: 'alpha', newText: 'beta' }] } }));
    assert.equal(readFileSync(probe, 'utf8'), 'beta\n');
  });

  it('an upstream tool\'s declared JSON Schema default is judged: an edit without `dryRun` is refused, a preview runs', async () => {
    const agent = await stack.agent('preview an edit of the todo list');
    const edits = [{ oldText: 'ship the release', newText: 'skip the release' }];
    const left = await agent.call('filesystem.edit_file', { path: TODO, edits });
    assert.equal(left.structured?.status, 'denied', left.text);
    assert.deepEqual(left.structured?.reasons?.map((x) => x.rule), ['args.bounds']);
    assert.match(left.structured?.reasons?.[0]?.message ?? '', /argument `dryRun` of `filesystem\.edit_file` is not given, and the tool runs it at its default, which is `false`: not one of `true`/);
    assert.equal(readFileSync(TODO, 'utf8'), TODO_TEXT, 'the file is not edited');
    const preview = await agent.call('filesystem.edit_file', { path: TODO, edits, dryRun: true });
    assert.equal(preview.structured?.status, 'executed', preview.text);
    assert.equal(readFileSync(TODO, 'utf8'), TODO_TEXT, 'a preview edits nothing');
    assert.ok(existsSync(TODO));
  });

  it('a catalog tool\'s zod default is judged: `billing.query` without `limit` runs at 50, above the cap of 20', async () => {
    const s = await mallory.gh.startSession({ intent: 'look up billing records', policyRef: 'capped' });
    const left = await s.propose({ tool: 'billing.query', args: {}, reasoning: 'every record, the default page' });
    assert.equal(left.status, 'denied');
    assert.deepEqual(left.decision.reasons.map((r) => r.rule), ['args.bounds']);
    assert.match(left.decision.reasons[0]?.message ?? '', /argument `limit` of `billing\.query` is not given, and the tool runs it at its default, which is 50: above the maximum 20/);
    await assertNotExecuted(rt.h, s.sessionId, 1);
    const capped = await s.propose({ tool: 'billing.query', args: { limit: 20 }, reasoning: 'one page' });
    assert.equal(capped.status, 'executed');
    await s.end({ reason: 'done' });
    await assertAuditVerifies(rt.h);
  });
});
