/**
 * The MCP client the conformance suite's client scenarios run (`conformance client --command …`;
 * the suite appends its test server's URL and names the scenario in `MCP_CONFORMANCE_SCENARIO`).
 * `bridge`: Gatehouse's stdio bridge (what `gatehouse mcp` runs, here in this process, its gateway
 * URL the suite's server, taken as the command takes `GATEHOUSE_URL`) driven over its stdio streams —
 * the bridge is the MCP client under test.
 * `sdk`: the TypeScript SDK's own client straight to the URL, the reference beside it.
 *
 * Usage: `node --import tsx scripts/conformance-client.ts bridge|sdk <url>`
 */
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { gatewayMcpUrl } from '../cli/commands/mcp';
import { startBridge } from '../gateway/mcp/bridge';

async function transport(mode: string, url: string): Promise<Transport> {
  if (mode === 'sdk') return new StreamableHTTPClientTransport(new URL(url));
  if (mode !== 'bridge') throw new Error(`the mode must be \`bridge\` or \`sdk\`, got \`${mode}\``);
  const toBridge = new PassThrough();
  const fromBridge = new PassThrough();
  // The suite's servers take any bearer: the bridge needs one to start.
  const target = gatewayMcpUrl({ GATEHOUSE_URL: url, GATEHOUSE_STACK_FILE: join(__dirname, '..', '.data', 'no-stack-in-conformance.json') });
  await startBridge({ url: target, token: 'conformance', stdin: toBridge, stdout: fromBridge });
  return streamTransport(fromBridge, toBridge);
}

/** The client end of the bridge's stdio: newline-delimited JSON-RPC, as a desktop host speaks it. */
function streamTransport(input: PassThrough, output: PassThrough): Transport {
  const buffer = new ReadBuffer();
  const t: Transport = {
    async start() {
      input.on('data', (chunk: Buffer) => {
        buffer.append(chunk);
        for (let m = buffer.readMessage(); m; m = buffer.readMessage()) t.onmessage?.(m);
      });
    },
    async send(message: JSONRPCMessage) {
      output.write(serializeMessage(message));
    },
    async close() {
      output.end();
      t.onclose?.();
    },
  };
  return t;
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
  await client.connect(await transport(mode, url));
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
