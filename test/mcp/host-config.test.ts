/**
 * `gatehouse mcp --print-config` from a folder outside the clone: the config it prints names this
 * Node and the clone's `bin/gatehouse.js` by absolute path and bakes in no gateway address; a
 * host launching exactly that command, in another empty folder, reaches the running stack's
 * gateway through the stack file and gates calls.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { call } from './scenario';
import { startMcpStack, type McpStack } from './stack';

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

let stack: McpStack;
let stackFile: string;
before(async () => {
  stack = await startMcpStack('mcp_host_config');
  // What a running `gatehouse start` writes: the bridge reads the gateway's URL from it.
  stackFile = join(mkdtempSync(join(tmpdir(), 'gatehouse-stack-')), 'stack.json');
  writeFileSync(stackFile, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), gateway: { url: stack.baseUrl, mcpUrl: stack.mcpUrl.href } }));
});
after(async () => {
  await stack?.close();
});

interface HostConfig {
  mcpServers: Record<string, { command: string; args: string[]; env: Record<string, string> }>;
}

async function printConfig(args: string[]): Promise<{ config: HostConfig; stderr: string; text: string }> {
  const elsewhere = mkdtempSync(join(tmpdir(), 'gatehouse-anywhere-'));
  const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'bin', 'gatehouse.js'), 'mcp', '--print-config', ...args], {
    cwd: elsewhere,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', GATEHOUSE_STACK_FILE: stackFile },
  });
  return { config: JSON.parse(stdout) as HostConfig, stderr, text: stdout };
}

test('the printed config: absolute command, no port, and a host that runs it from any folder gets gated tools', async () => {
  const { config, stderr, text } = await printConfig(['--token', stack.token]);
  const server = config.mcpServers.gatehouse!;
  assert.equal(server.command, process.execPath);
  assert.ok(isAbsolute(server.args[0]!) && existsSync(server.args[0]!), `not an absolute path to the clone's entry: ${server.args[0]}`);
  assert.deepEqual(server.args.slice(1), ['mcp']);
  assert.deepEqual(Object.keys(server.env).sort(), ['GATEHOUSE_AGENT_TOKEN', 'GATEHOUSE_STACK_FILE']);
  assert.equal(server.env.GATEHOUSE_AGENT_TOKEN, stack.token);
  // No gateway address in it: a stack restarted on another port needs no edit.
  const port = new URL(stack.baseUrl).port;
  assert.ok(!text.includes(`:${port}`) && !text.includes('GATEHOUSE_URL'), text);
  assert.match(stderr, new RegExp(`finds the running stack itself \\(now ${stack.baseUrl.replace(/[.]/g, '\\.')}\\)`));

  // The host: exactly the printed command, started in another folder with only the printed env.
  const transport = new StdioClientTransport({ command: server.command, args: server.args, cwd: mkdtempSync(join(tmpdir(), 'gatehouse-host-')), env: { PATH: process.env.PATH ?? '', ...server.env }, stderr: 'pipe' });
  const client = new Client({ name: 'desktop-host', version: '1.0.0' });
  await client.connect(transport);
  try {
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('gatehouse_declare_intent') && names.includes('billing.query'), names.join(', '));
    const declared = await call(client, 'gatehouse_declare_intent', { intent: 'count last month\'s test billing records' });
    assert.equal(declared.structuredContent.status, 'declared');
    const query = await call(client, 'billing.query', { testOnly: true, limit: 2 });
    assert.equal(query.structuredContent.status, 'executed', JSON.stringify(query));
  } finally {
    await client.close();
  }
});

test('without a token the config holds a placeholder saying where one comes from; --vscode gives VS Code\'s shape', async () => {
  const { config } = await printConfig([]);
  assert.match(config.mcpServers.gatehouse!.env.GATEHOUSE_AGENT_TOKEN!, /^<token from: gatehouse agents create /);
  const { config: vscode } = (await printConfig(['--vscode'])) as unknown as { config: { servers: Record<string, { type: string; command: string }> } };
  assert.equal(vscode.servers.gatehouse!.type, 'stdio');
  assert.equal(vscode.servers.gatehouse!.command, process.execPath);
});
