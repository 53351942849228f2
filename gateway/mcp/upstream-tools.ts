/**
 * The tools of upstream MCP servers in the gateway's `tools/list`. The worker publishes what each
 * server lists (`audit/upstream-listing.ts`); the gateway reads that table, so it never holds an
 * upstream's credentials nor connects to one. Input schemas are shown as the upstream gave them;
 * what a call does is decided by the session's policy, which classifies each upstream tool.
 */
import type { Pool } from 'pg';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { readUpstreamTools, type PublishedUpstreamTool } from '../../audit/upstream-listing';
import { DECLARE_INTENT_TOOL } from './tools';

/** Where `tools/list` gets the upstream tools from. */
export type UpstreamToolSource = () => Promise<readonly Tool[]>;

/** The MCP view of one published upstream tool. */
export function upstreamMcpTool(t: PublishedUpstreamTool): Tool {
  const server = t.name.slice(0, t.name.indexOf('.'));
  const own = t.description.trim().replace(/\.$/, '');
  return {
    name: t.name,
    description: `${own ? `${own}. ` : ''}Tool of the MCP server \`${server}\`, gated by Gatehouse: its policy classifies the tool, and a call runs, waits for a human, or is refused; declare your intent with \`${DECLARE_INTENT_TOOL}\` first.`,
    inputSchema: { type: 'object', ...t.inputSchema } as Tool['inputSchema'],
    annotations: {
      title: t.name,
      ...(t.readOnlyHint !== undefined ? { readOnlyHint: t.readOnlyHint } : {}),
      ...(t.destructiveHint !== undefined ? { destructiveHint: t.destructiveHint } : {}),
    },
  };
}

/** Reads the published tools, at most once per `ttlMs` (a read that fails shows the last good list). */
export function publishedUpstreamTools(pool: Pool, ttlMs = 1_000): UpstreamToolSource {
  let cached: { at: number; tools: readonly Tool[] } = { at: -Infinity, tools: [] };
  let pending: Promise<readonly Tool[]> | undefined;
  return async () => {
    if (performance.now() - cached.at < ttlMs) return cached.tools;
    pending ??= readUpstreamTools(pool)
      .then((rows) => {
        cached = { at: performance.now(), tools: rows.map(upstreamMcpTool) };
        return cached.tools;
      })
      .catch(() => cached.tools)
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}
