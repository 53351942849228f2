/**
 * The MCP client the conformance suite's client scenarios run (`conformance client --command …`;
 * the suite appends its test server's URL and names the scenario in `MCP_CONFORMANCE_SCENARIO`).
 * `bridge`: Gatehouse's stdio bridge (`gatehouse mcp`, started as a desktop host starts it, its
 * gateway URL the suite's server) driven over stdio — the bridge is the MCP client under test.
 * `sdk`: the TypeScript SDK's own client straight to the URL, the reference beside it.
 *
 * Usage: `node --import tsx scripts/conformance-client.ts bridge|sdk <url>`
 */
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

const ROOT = join(__dirname, '..');

function transport(mode: string, url: string): Transport {
  if (mode === 'sdk') return new StreamableHTTPClientTransport(new URL(url));
  if (mode !== 'bridge') throw new Error(`the mode must be \`bridge\` or \`sdk\`, got \`${mode}\``);
  // The suite's servers take any bearer: the bridge needs one to start.
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', GATEHOUSE_URL: url, GATEHOUSE_AGENT_TOKEN: 'conformance', GATEHOUSE_STACK_FILE: join(ROOT, '.data', 'no-stack-in-conformance.json') };
  return new StdioClientTransport({ command: process.execPath, args: [join(ROOT, 'bin', 'gatehouse.js'), 'mcp'], cwd: ROOT, env, stderr: 'inherit' });
}

/** What each scenario asks the client to do once connected. */
async function act(scenario: string, client: Client): Promise<void> {
  if (scenario === 'tools_call') {
    await client.listTools();
    await client.callTool({ name: 'add_numbers', arguments: { a: 5, b: 3 } });
  } else if (scenario === 'sse-retry') {
    // The server closes the call's stream after its priming event: the client must come back with `Last-Event-ID`.
    await client.callTool({ name: 'test_reconnection', arguments: {} });
  }
}

async function main(): Promise<void> {
  const [mode = '', url] = process.argv.slice(2);
  if (!url) throw new Error('usage: conformance-client.ts bridge|sdk <url>');
  const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
  const client = new Client({ name: `gatehouse-conformance-${mode}`, version: '0.1.0' });
  await client.connect(transport(mode, url));
  try {
    await act(scenario, client);
  } finally {
    await client.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`conformance-client: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
