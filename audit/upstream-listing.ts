/**
 * The published tool lists of upstream MCP servers (table `upstream_tools`, one row per server).
 * The worker, which holds the upstreams' credentials, writes what each server lists; the gateway
 * reads it for MCP `tools/list`, so it never connects to an upstream itself. Plain JSON: a tool's
 * name (`<server>.<tool>`), description, input JSON Schema as the server gave it, and its hints.
 * Node-only.
 */
import type { Pool } from 'pg';
import { storableJson } from './chain';

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
    // As PostgreSQL stores it: a server's NUL or lone surrogate must not stop its listing.
    [server, storableJson(tools)],
  );
}

/** Empties the lists (tools, resources, templates, prompts) of servers no longer configured (the runtime role may not DELETE). */
export async function retireUpstreamServers(pool: Pool, keep: readonly string[]): Promise<void> {
  await pool.query(
    `UPDATE upstream_tools SET tools = '[]'::jsonb, resources = '[]'::jsonb, templates = '[]'::jsonb, prompts = '[]'::jsonb, updated_at = now()
     WHERE NOT (server = ANY($1::text[])) AND (tools <> '[]'::jsonb OR resources <> '[]'::jsonb OR templates <> '[]'::jsonb OR prompts <> '[]'::jsonb)`,
    [keep],
  );
}

/** Every published upstream tool, by server then name. */
export async function readUpstreamTools(pool: Pool): Promise<PublishedUpstreamTool[]> {
  const r = await pool.query<{ tools: PublishedUpstreamTool[] }>('SELECT tools FROM upstream_tools ORDER BY server');
  return r.rows.flatMap((row) => row.tools).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** What a server lists besides its tools (migration 047): resources, resource templates and prompts, as it gave them, each with its server. */
export interface PublishedSubjects {
  readonly resources: readonly Record<string, unknown>[];
  readonly templates: readonly Record<string, unknown>[];
  readonly prompts: readonly Record<string, unknown>[];
}

/** Replaces the published resources, templates and prompts of one server. */
export async function publishUpstreamSubjects(pool: Pool, server: string, s: PublishedSubjects): Promise<void> {
  await pool.query(
    `INSERT INTO upstream_tools (server, resources, templates, prompts, updated_at) VALUES ($1, $2::jsonb, $3::jsonb, $4::jsonb, now())
     ON CONFLICT (server) DO UPDATE SET resources = EXCLUDED.resources, templates = EXCLUDED.templates, prompts = EXCLUDED.prompts, updated_at = now()`,
    [server, storableJson(s.resources), storableJson(s.templates), storableJson(s.prompts)],
  );
}

/** Every server's published resources, templates and prompts, by server name. */
export async function readUpstreamSubjects(pool: Pool): Promise<Map<string, PublishedSubjects>> {
  const r = await pool.query<{ server: string } & PublishedSubjects>('SELECT server, resources, templates, prompts FROM upstream_tools ORDER BY server');
  return new Map(r.rows.map((row) => [row.server, { resources: row.resources, templates: row.templates, prompts: row.prompts }]));
}

/** Channel on which every change of a server's published lists is announced (payload: the server). */
export const UPSTREAM_LISTS_CHANNEL = 'gatehouse_upstream_lists';
/** Channel on which the worker relays an upstream's progress and log notifications of a running call (payload: {@link UpstreamNote}). */
export const UPSTREAM_NOTES_CHANNEL = 'gatehouse_upstream_notes';

/**
 * Channel on which a gateway asks the worker to subscribe to an upstream resource (payload:
 * `{ server, uri, agent }`, `agent` the root agent whose session subscribed: the worker bounds what
 * each agent watches over every gateway; a payload without one, from an older gateway, still works).
 */
export const UPSTREAM_SUBSCRIBE_CHANNEL = 'gatehouse_upstream_subscribe';

/**
 * How often a gateway asks again for the resources its MCP sessions watch: a worker drops what no
 * gateway asked for within three of these (`activities/upstreams/watched-resources.ts`).
 */
export const SUBSCRIPTION_RENEW_MS = 60_000;

/** Asks the worker to subscribe to a resource of an upstream server for a root agent (it does where the server supports it). */
export async function requestUpstreamSubscription(pool: Pool, server: string, uri: string, agent?: string): Promise<void> {
  await pool.query('SELECT pg_notify($1, $2)', [UPSTREAM_SUBSCRIBE_CHANNEL, JSON.stringify({ server, uri, ...(agent !== undefined ? { agent } : {}) })]);
}

/** One notification an upstream sent during a call, keyed by the call's idempotency key (`<sessionId>:<proposal key>`). */
export interface UpstreamNote {
  readonly key: string;
  readonly method: 'notifications/progress' | 'notifications/message' | 'notifications/resources/updated';
  readonly params: Record<string, unknown>;
}

/** Most bytes of one note's payload (PostgreSQL's NOTIFY limit is 8000): a longer note is cut to its method and a notice. */
const MAX_NOTE = 7_000;

/** Relays a note to the gateways (best effort: a lost note never fails the call). */
export async function relayUpstreamNote(pool: Pool, note: UpstreamNote): Promise<void> {
  let payload = JSON.stringify(note);
  if (Buffer.byteLength(payload) > MAX_NOTE) payload = JSON.stringify({ ...note, params: note.method === 'notifications/message' ? { level: 'warning', data: 'an upstream log message too long to relay was left out' } : {} });
  await pool.query('SELECT pg_notify($1, $2)', [UPSTREAM_NOTES_CHANNEL, payload]);
}

/**
 * Listens on the channels it has handlers for, with one connection of the pool; reconnects after a lost connection.
 * `connected` is told when the LISTENs are in place (true) and when their connection is lost (false): a
 * notification sent in between went nowhere. Returns a function that stops listening.
 */
export function listenUpstream(
  pool: Pool,
  on: {
    readonly lists?: (server: string) => void;
    readonly note?: (note: UpstreamNote) => void;
    /** `agent`: the root agent the request names, if it names one. */
    readonly subscribe?: (server: string, uri: string, agent: string | undefined) => void;
    readonly connected?: (up: boolean) => void;
  },
): () => Promise<void> {
  let closed = false;
  let client: import('pg').PoolClient | undefined;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    let attempt: import('pg').PoolClient | undefined;
    try {
      const c = await pool.connect();
      attempt = c;
      if (closed) return c.release();
      client = c;
      c.on('notification', (msg) => {
        if (!msg.payload) return;
        if (msg.channel === UPSTREAM_LISTS_CHANNEL) on.lists?.(msg.payload);
        else {
          try {
            const body = JSON.parse(msg.payload) as Record<string, unknown>;
            if (msg.channel === UPSTREAM_NOTES_CHANNEL) on.note?.(body as unknown as UpstreamNote);
            else if (msg.channel === UPSTREAM_SUBSCRIBE_CHANNEL && typeof body.server === 'string' && typeof body.uri === 'string') {
              on.subscribe?.(body.server, body.uri, typeof body.agent === 'string' && body.agent !== '' ? body.agent : undefined);
            }
          } catch {
            // not JSON: ignored
          }
        }
      });
      const lost = () => {
        if (client !== c || closed) return;
        client = undefined;
        c.release(true);
        on.connected?.(false);
        retry = setTimeout(() => void connect(), 500);
        retry.unref();
      };
      c.on('error', lost);
      c.on('end', lost);
      if (on.lists) await c.query(`LISTEN ${UPSTREAM_LISTS_CHANNEL}`);
      if (on.note) await c.query(`LISTEN ${UPSTREAM_NOTES_CHANNEL}`);
      if (on.subscribe) await c.query(`LISTEN ${UPSTREAM_SUBSCRIBE_CHANNEL}`);
      if (client === c) on.connected?.(true);
    } catch {
      if (attempt !== undefined) {
        // A LISTEN failed: a connection already lost (or stopped) is its handler's to retry.
        if (client !== attempt) return;
        client = undefined;
        attempt.release(true);
      }
      if (closed) return;
      retry = setTimeout(() => void connect(), 1_000);
      retry.unref();
    }
  };
  void connect();
  return async () => {
    closed = true;
    clearTimeout(retry);
    const c = client;
    client = undefined;
    if (c) {
      await c.query('UNLISTEN *').catch(() => undefined);
      c.release();
    }
  };
}
