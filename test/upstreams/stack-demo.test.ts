/**
 * As a user would: `gatehouse start --policy policies/examples/mcp-filesystem.yaml` with
 * `GATEHOUSE_CONFIG` naming the filesystem MCP server, then from "a second terminal" an agent
 * credential, the Python `mcp` client on the stack's `/mcp` (it sees and runs the upstream's
 * tools), `gatehouse demo mcp-filesystem --approve --json`, and `gatehouse policy check | analyze
 * --config`. Outcomes are checked on disk and in the audit trail.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { DemoReport } from '../../demo';
import { parseJsonOutput, ROOT, runCli, startStack, type RunningStack } from '../e2e/processes';
import { PyAgent } from './stack';

const POLICY = join(ROOT, 'policies', 'examples', 'mcp-filesystem.yaml');
/** Variables that would point a process somewhere else than this test's stack. */
const STRIPPED = [
  'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'GATEHOUSE_TASK_QUEUE', 'GATEHOUSE_STACK_FILE', 'GATEHOUSE_POLICY', 'GATEHOUSE_POLICIES',
  'GATEHOUSE_CATALOG', 'GATEHOUSE_KEYS', 'GATEHOUSE_ENV', 'GATEHOUSE_AGENT_TOKEN', 'DATABASE_URL', 'GATEHOUSE_PRODUCTION_DATABASE_URL',
  'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'SLACK_API_URL', 'GATEHOUSE_CONFIG',
];

describe('gatehouse start with an upstream MCP server', { timeout: 600_000 }, () => {
  let dataDir: string;
  let scratch: string;
  let configFile: string;
  let env: NodeJS.ProcessEnv;
  let stack: RunningStack | undefined;
  let audit: pg.Pool;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-upstream-e2e-'));
    await chmod(dataDir, 0o755); // the embedded PostgreSQL runs as its own user
    scratch = join(dataDir, 'scratch');
    await mkdir(join(scratch, 'docs'), { recursive: true });
    await writeFile(join(scratch, 'docs', 'hello.txt'), 'hello through the stack\n');
    configFile = join(dataDir, 'gatehouse.yaml');
    const bin = require.resolve('@modelcontextprotocol/server-filesystem/dist/index.js');
    await writeFile(configFile, `mcp:\n  upstreams:\n    filesystem:\n      command: ${JSON.stringify(process.execPath)}\n      args: [${JSON.stringify(bin)}, ${JSON.stringify(scratch)}]\n`);
    env = { ...process.env, GATEHOUSE_DATA_DIR: dataDir, XDG_CONFIG_HOME: join(dataDir, 'config') };
    for (const k of STRIPPED) delete env[k];
    stack = await startStack({ ...env, GATEHOUSE_CONFIG: configFile, GATEHOUSE_POLICY: POLICY }, join(dataDir, 'stack.json'));
    audit = new pg.Pool({ connectionString: (stack.stackFile as { databaseUrl: string }).databaseUrl, max: 2 });
  });

  after(async () => {
    await audit?.end();
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('an MCP client on the stack sees the upstream tools and runs a read', async () => {
    const issued = parseJsonOutput<{ token: string }>('gatehouse agents create', await runCli(['agents', 'create', 'files-agent', '--owner', 'ops-031', '--json'], env));
    const agent = await PyAgent.open((stack!.stackFile as { gateway: { mcpUrl: string } }).gateway.mcpUrl, issued.token);
    try {
      // Upstream tools are listed once the session, and so its policy, exists.
      const declared = await agent.call('gatehouse_declare_intent', { intent: 'read the docs folder' });
      assert.equal(declared.structured?.status, 'declared', declared.text);
      const tools = await agent.list();
      assert.ok(tools['filesystem.read_text_file'] && tools['filesystem.write_file'], `tools: ${Object.keys(tools).join(', ')}`);
      const read = await agent.call('filesystem.read_text_file', { path: join(scratch, 'docs', 'hello.txt') });
      assert.equal(read.structured?.status, 'executed', read.text);
      assert.match(JSON.stringify(read.structured?.result), /hello through the stack/);
    } finally {
      await agent.end();
    }
  });

  it('gatehouse demo mcp-filesystem --approve: read runs, the protected write waits and is written once approved, list → move is refused', async () => {
    const report = parseJsonOutput<DemoReport>('gatehouse demo mcp-filesystem', await runCli(['demo', 'mcp-filesystem', '--approve', '--json'], env, 400_000));
    const f = report.facts as Record<string, unknown>;
    assert.equal(f.readStatus, 'executed');
    assert.equal(f.writeStatus, 'executed');
    assert.equal(f.notesOnDisk, true);
    assert.equal(f.listStatus, 'executed');
    assert.equal(f.moveStatus, 'denied');
    assert.ok((f.moveRules as string[]).includes('transition.forbidden'));
    assert.equal(f.invoiceStillInInbox, true);
    const sessionId = report.sessionIds[0]!;
    const r = await audit.query<{ kind: string }>("SELECT kind FROM events WHERE session_id = $1 AND tool = 'filesystem.write_file' ORDER BY seq", [sessionId]);
    const kinds = r.rows.map((x) => x.kind);
    assert.ok(kinds.indexOf('approval-requested') >= 0 && kinds.indexOf('approval-requested') < kinds.indexOf('executed'), `kinds: ${kinds.join(', ')}`);
    assert.equal(kinds.filter((k) => k === 'executed').length, 1);
  });

  it('gatehouse policy check --config warns about unclassified upstream tools; analyze includes them', async () => {
    const minimal = join(dataDir, 'two-lines.yaml');
    await writeFile(minimal, 'upstreamTools:\n  filesystem.read_*: { effect: read }\n  filesystem.write_*: { effect: write }\n');
    const check = await runCli(['policy', 'check', minimal, '--config', configFile], env);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stderr, /warning: upstreamTools: upstream tool `filesystem\.move_file` is not classified by the policy: it is unknown and denied/);
    assert.doesNotMatch(check.stderr, /`filesystem\.read_text_file` is not classified/);
    const analyze = parseJsonOutput<{ paths: { tools: string[]; status: string }[] }>('gatehouse policy analyze', await runCli(['policy', 'analyze', POLICY, '--config', configFile, '--json', '--max-length', '2'], env));
    const move = analyze.paths.find((p) => p.tools.join(' ') === 'filesystem.list_directory filesystem.move_file');
    assert.equal(move?.status, 'blocked');
    assert.ok(existsSync(scratch));
  });

  it('gatehouse start --config refuses a broken configuration before anything starts, naming the path', async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), 'gatehouse-upstream-broken-'));
    try {
      const broken = join(elsewhere, 'gatehouse.yaml');
      await writeFile(broken, 'mcp:\n  upstreams:\n    filesystem: { command: node, args: ./scratch }\n');
      const r = await runCli(['start', '--config', broken], { ...env, GATEHOUSE_DATA_DIR: elsewhere }, 60_000);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /mcp\.upstreams\.filesystem\.args: expected a list of arguments/);
      assert.equal(existsSync(join(elsewhere, 'stack.json')), false);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });
});
