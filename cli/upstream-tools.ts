/**
 * The tools of the upstream MCP servers a configuration file lists, as the policy engine sees them
 * (`ToolInfo` with the servers' hints), for `gatehouse policy check | analyze --config`: each
 * server is connected once, listed, and closed. A server that cannot be reached is reported, not fatal.
 */
import type { ToolInfo } from '../policies';
import { loadUpstreamConfig, UpstreamConnection } from '../activities/upstreams';

export interface ListedUpstreams {
  readonly tools: readonly ToolInfo[];
  /** One line per server that could not be listed. */
  readonly problems: readonly string[];
}

export async function listUpstreamToolInfo(configFile: string): Promise<ListedUpstreams> {
  const servers = loadUpstreamConfig(configFile);
  const tools: ToolInfo[] = [];
  const problems: string[] = [];
  await Promise.all(
    servers.map(async (server) => {
      const found: ToolInfo[] = [];
      const conn = new UpstreamConnection({
        server,
        onTools: (listed) => {
          found.length = 0;
          for (const t of listed) {
            const hints = t.annotations ?? {};
            found.push({
              name: `${server.name}.${t.name}`,
              description: t.description ?? '',
              effect: 'destructive',
              environment: 'production',
              resource: server.name,
              estimatesBlastRadius: false,
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
        else tools.push(...found);
      } finally {
        await conn.close();
      }
    }),
  );
  tools.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { tools, problems };
}
