/**
 * `gatehouse mcp`: the stdio MCP bridge a desktop client launches, forwarding to the gateway's
 * `/mcp` with the agent credential as bearer:
 *
 *   {"command": "npx", "args": ["gatehouse", "mcp"], "env": {"GATEHOUSE_AGENT_TOKEN": "…"}}
 *
 * The gateway is `GATEHOUSE_URL` (its base URL or its `/mcp` URL), else the running stack's
 * `gateway.url`. `GATEHOUSE_INTENT` declares the session's intent up front (`X-Gatehouse-Intent`).
 * stdout carries the protocol only; problems go to stderr.
 */
import type { Command } from 'commander';
import { readStackFile } from '../../client/config';
import { startBridge } from '../../gateway/mcp/bridge';
import { CommandError } from '../command-error';

/** The bridge cannot start: no credential, no gateway address. */
export class McpBridgeUsageError extends CommandError {
  constructor(message: string) {
    super('McpBridgeUsageError', message);
  }
}

/** The gateway's MCP endpoint from `GATEHOUSE_URL`, else the running stack's `gateway.url`. */
export function gatewayMcpUrl(env: NodeJS.ProcessEnv = process.env): URL {
  const stack = readStackFile(env) as { gateway?: { url?: unknown } } | undefined;
  const fromStack = typeof stack?.gateway?.url === 'string' ? stack.gateway.url : undefined;
  const text = env.GATEHOUSE_URL || fromStack;
  if (!text) throw new McpBridgeUsageError('no gateway address: set `GATEHOUSE_URL` (such as `http://127.0.0.1:8080`) or run `gatehouse start`');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new McpBridgeUsageError(`\`GATEHOUSE_URL\` is not a URL: \`${text}\``);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new McpBridgeUsageError(`the gateway URL must be http(s), got \`${text}\``);
  if (!url.pathname.replace(/\/+$/, '').endsWith('/mcp')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/mcp`;
  return url;
}

export function registerMcpCommand(program: Command): void {
  program
    .command('mcp')
    .description('stdio MCP bridge to the gateway, for desktop MCP clients (credential from `GATEHOUSE_AGENT_TOKEN`)')
    .action(async () => {
      const token = process.env.GATEHOUSE_AGENT_TOKEN;
      if (!token) throw new McpBridgeUsageError('no agent credential: set `GATEHOUSE_AGENT_TOKEN` to one from `gatehouse agents create <agentId> --owner <person>`');
      const bridge = await startBridge({ url: gatewayMcpUrl(), token, ...(process.env.GATEHOUSE_INTENT ? { intent: process.env.GATEHOUSE_INTENT } : {}) });
      await bridge.closed;
    });
}
