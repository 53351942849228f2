/**
 * The tools of the upstream MCP servers a configuration file lists, as the policy engine sees them
 * (`ToolInfo` with the servers' hints), for `gatehouse policy check | analyze --config`: each
 * server is connected once, listed, and closed. A server that cannot be reached is reported, not fatal;
 * so is a `sensitive` entry that names no listed tool or argument (it would redact nothing), and a
 * tool the worker would not offer (`tool-names.ts`).
 */
import type { ToolInfo } from '../policies';
import { jsonSchemaDefaults, loadUpstreamConfig, sensitiveMismatches, unofferedToolName, UpstreamConnection } from '../activities/upstreams';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';

export interface ListedUpstreams {
  readonly tools: readonly ToolInfo[];
  /** One line per server that could not be listed. */
  readonly problems: readonly string[];
}

export async function listUpstreamToolInfo(configFile: string): Promise<ListedUpstreams> {
  const servers = loadUpstreamConfig(configFile);
  const all: ToolInfo[] = [];
  const problems: string[] = [];
  await Promise.all(
    servers.map(async (server) => {
      const found: ToolInfo[] = [];
      const skipped = new Set<string>();
      let tools: readonly Tool[] = [];
      const conn = new UpstreamConnection({
        server,
        onTools: (listed) => {
          found.length = 0;
          skipped.clear();
          tools = listed;
          for (const t of listed) {
            // As the worker: a tool named like one of Gatehouse's own is not offered, so not judged.
            const unoffered = unofferedToolName(server.name, t.name);
            if (unoffered !== undefined) {
              skipped.add(unoffered);
              continue;
            }
            const hints = t.annotations ?? {};
            found.push({
              name: `${server.name}.${t.name}`,
              description: t.description ?? '',
              effect: 'destructive',
              environment: 'production',
              resource: server.name,
              estimatesBlastRadius: false,
              argumentDefaults: jsonSchemaDefaults(t.inputSchema),
              upstream: {
                server: server.name,
                tool: t.name,
                ...(typeof hints.readOnlyHint === 'boolean' ? { readOnlyHint: hints.readOnlyHint } : {}),
                ...(typeof hints.destructiveHint === 'boolean' ? { destructiveHint: hints.destructiveHint } : {}),
              },
            });
          }
        },
      });
      try {
        await conn.start();
        if (conn.state !== 'up') problems.push(`upstream \`${server.name}\` could not be listed: ${conn.lastError}`);
        else {
          all.push(...found);
          problems.push(...skipped, ...sensitiveMismatches(server, tools));
        }
      } finally {
        await conn.close();
      }
    }),
  );
  all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { tools: all, problems };
}
