/**
 * The published tool lists of upstream MCP servers (table `upstream_tools`, one row per server).
 * The worker, which holds the upstreams' credentials, writes what each server lists; the gateway
 * reads it for MCP `tools/list`, so it never connects to an upstream itself. Plain JSON: a tool's
 * name (`<server>.<tool>`), description, input JSON Schema as the server gave it, and its hints.
 * Node-only.
 */
import type { Pool } from 'pg';

/** One upstream tool as published. */
export interface PublishedUpstreamTool {
  /** `<server>.<tool>`: the name agents call. */
  readonly name: string;
  readonly description: string;
  /** The upstream's input JSON Schema, unchanged. */
  readonly inputSchema: Record<string, unknown>;
  readonly readOnlyHint?: boolean;
  readonly destructiveHint?: boolean;
}

/** Replaces the published tools of one server. */
export async function publishUpstreamTools(pool: Pool, server: string, tools: readonly PublishedUpstreamTool[]): Promise<void> {
  await pool.query(
    `INSERT INTO upstream_tools (server, tools, updated_at) VALUES ($1, $2::jsonb, now())
     ON CONFLICT (server) DO UPDATE SET tools = EXCLUDED.tools, updated_at = now()`,
    [server, JSON.stringify(tools)],
  );
}

/** Empties the lists of servers no longer configured (the runtime role may not DELETE). */
export async function retireUpstreamServers(pool: Pool, keep: readonly string[]): Promise<void> {
  await pool.query(`UPDATE upstream_tools SET tools = '[]'::jsonb, updated_at = now() WHERE NOT (server = ANY($1::text[])) AND tools <> '[]'::jsonb`, [keep]);
}

/** Every published upstream tool, by server then name. */
export async function readUpstreamTools(pool: Pool): Promise<PublishedUpstreamTool[]> {
  const r = await pool.query<{ tools: PublishedUpstreamTool[] }>('SELECT tools FROM upstream_tools ORDER BY server');
  return r.rows.flatMap((row) => row.tools).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
