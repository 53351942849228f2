/**
 * The desktop-host config `gatehouse mcp --print-config` prints: an absolute command (this Node
 * and this clone's `bin/gatehouse.js`), so it runs from whatever folder the host starts it in, and
 * no gateway address — the bridge reads the running stack's file each time it starts, so a
 * restarted stack on another port needs no edit.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../client/config';

/** What a host's `mcpServers.<name>` entry holds (Claude Desktop, Cursor, Windsurf; VS Code's `servers` adds `type`). */
export interface McpHostServer {
  readonly type?: 'stdio';
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export interface McpHostConfigOptions {
  /** The agent credential; a placeholder saying where to get one when absent. */
  readonly token?: string;
  readonly intent?: string;
  /** The key under `mcpServers`. @default 'gatehouse' */
  readonly name?: string;
  /** `vscode` writes `{ servers: { … type: "stdio" } }` (`.vscode/mcp.json`); otherwise `{ mcpServers: … }`. */
  readonly host?: 'vscode' | 'default';
  /** The environment of the printing command: a non-default stack file or data folder is passed on. */
  readonly env?: NodeJS.ProcessEnv;
  /** @default process.execPath */
  readonly node?: string;
  readonly cwd?: string;
}

export const TOKEN_PLACEHOLDER = '<token from: gatehouse agents create <agentId> --owner <you>>';

export function mcpHostConfig(o: McpHostConfigOptions = {}): Record<string, Record<string, McpHostServer>> {
  const env = o.env ?? process.env;
  const cwd = o.cwd ?? process.cwd();
  const serverEnv: Record<string, string> = { GATEHOUSE_AGENT_TOKEN: o.token ?? TOKEN_PLACEHOLDER };
  if (o.intent) serverEnv.GATEHOUSE_INTENT = o.intent;
  // Where this command found the stack is where the bridge must look, whatever folder it starts in.
  for (const name of ['GATEHOUSE_STACK_FILE', 'GATEHOUSE_DATA_DIR'] as const) {
    const value = env[name];
    if (value) serverEnv[name] = isAbsolute(value) ? value : resolve(cwd, value);
  }
  const server: McpHostServer = { ...(o.host === 'vscode' ? { type: 'stdio' as const } : {}), command: o.node ?? process.execPath, args: [join(PROJECT_ROOT, 'bin', 'gatehouse.js'), 'mcp'], env: serverEnv };
  return { [o.host === 'vscode' ? 'servers' : 'mcpServers']: { [o.name ?? 'gatehouse']: server } };
}
