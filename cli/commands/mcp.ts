/**
 * `gatehouse mcp`: the stdio MCP bridge a desktop client launches, forwarding to the gateway's
 * `/mcp` with the agent credential as bearer. `gatehouse mcp --print-config [--token <t>]` prints
 * the host config to paste (`cli/mcp-host-config.ts`):
 *
 *   {"mcpServers": {"gatehouse": {"command": "/usr/bin/node", "args": ["<clone>/bin/gatehouse.js", "mcp"], "env": {"GATEHOUSE_AGENT_TOKEN": "…"}}}}
 *
 * The gateway is `GATEHOUSE_URL` (its base URL or its `/mcp` URL), else the running stack's
 * `gateway.url`, read when the bridge starts. `GATEHOUSE_INTENT` declares the session's intent up
 * front (`X-Gatehouse-Intent`). stdout carries the protocol only; problems go to stderr.
 */
import type { Command } from 'commander';
import { readStackFile, stackFilePath } from '../../client/config';
import { startBridge } from '../../gateway/mcp/bridge';
import { CommandError } from '../command-error';
import { processIo, type CommandIo } from '../command-io';
import { mcpHostConfig } from '../mcp-host-config';
import { registerMcpAuthorize } from './mcp-authorize';

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
  if (!text) throw new McpBridgeUsageError(`no running gatehouse stack (no live stack file \`${stackFilePath(env)}\`): run \`gatehouse start\` in the clone, or set \`GATEHOUSE_URL\``);
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

interface McpCommandOptions {
  readonly printConfig?: boolean;
  readonly token?: string;
  readonly intent?: string;
  readonly name?: string;
  readonly vscode?: boolean;
}

/** `--print-config`: the config on stdout, where the bridge will connect now on stderr. */
export function printHostConfig(o: McpCommandOptions, io: CommandIo = processIo, env: NodeJS.ProcessEnv = process.env): void {
  const token = o.token ?? env.GATEHOUSE_AGENT_TOKEN;
  io.out(JSON.stringify(mcpHostConfig({ env, ...(token ? { token } : {}), ...(o.intent ? { intent: o.intent } : {}), ...(o.name ? { name: o.name } : {}), host: o.vscode ? 'vscode' : 'default' }), null, 2));
  const stack = readStackFile(env);
  io.err(
    stack?.gateway
      ? `the bridge finds the running stack itself (now ${stack.gateway.url}); paste the above into the host's config${token ? '' : ' with a token from `gatehouse agents create`'}`
      : `no stack is running now: \`gatehouse start\` first; the bridge finds it through \`${stackFilePath(env)}\` when the host starts it`,
  );
}

export function registerMcpCommand(program: Command): void {
  const mcp = program
    .command('mcp')
    .description('stdio MCP bridge to the gateway, for desktop MCP clients (credential from `GATEHOUSE_AGENT_TOKEN`)')
    .option('--print-config', 'print the desktop-host config to paste (Claude Desktop, Cursor: `mcpServers`) and exit')
    .option('--token <credential>', 'with --print-config: the agent credential to put in it (default `GATEHOUSE_AGENT_TOKEN`, else a placeholder)')
    .option('--intent <text>', 'with --print-config: the session intent the bridge declares up front')
    .option('--name <name>', 'with --print-config: the server\'s name in the config', 'gatehouse')
    .option('--vscode', 'with --print-config: VS Code\'s `.vscode/mcp.json` shape (`servers`, `type: stdio`)')
    .action(async (o: McpCommandOptions) => {
      if (o.printConfig) return printHostConfig(o);
      const token = process.env.GATEHOUSE_AGENT_TOKEN;
      if (!token) throw new McpBridgeUsageError('no agent credential: set `GATEHOUSE_AGENT_TOKEN` to one from `gatehouse agents create <agentId> --owner <person>`');
      const bridge = await startBridge({ url: gatewayMcpUrl(), token, ...(process.env.GATEHOUSE_INTENT ? { intent: process.env.GATEHOUSE_INTENT } : {}) });
      await bridge.closed;
    });
  // `gatehouse mcp authorize <request-id> …`: an operator grants a host's OAuth request.
  registerMcpAuthorize(mcp, () => new URL('/', gatewayMcpUrl()));
}
