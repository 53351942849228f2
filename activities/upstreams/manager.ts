/**
 * `UpstreamManager`: the worker's upstream MCP servers. One `UpstreamConnection` per configured
 * server; every listing (at connect, after `list_changed`, after a restart) replaces the server's
 * tools in the catalog (`<server>.<tool>`) and publishes them for the gateway's `tools/list`.
 * Sessions snapshot the catalog when they start, so a changed listing reaches new sessions. A
 * server configured `isolate: agent` also gets a connection per root agent for its calls
 * (`agent-connections.ts`); its listing still comes from the one shared connection. Node-only.
 *
 * ```ts
 * const upstreams = new UpstreamManager({ servers: loadUpstreamConfig(file), catalog, publish: auditPool });
 * await upstreams.start();   // connected (or retrying) and listed
 * ```
 */
import pg, { type Pool } from 'pg';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { shownLine, shownLineAtMost } from '../../approvals/shown-text';
import { listenUpstream, publishUpstreamSubjects, publishUpstreamTools, relayUpstreamNote, retireUpstreamServers, type PublishedSubjects } from '../../audit/upstream-listing';
import type { ToolCatalog } from '../tools/catalog';
import type { AnyToolDefinition } from '../tools/define';
import { AgentConnections } from './agent-connections';
import type { NamedUpstream } from './config';
import { UpstreamConnection, type UpstreamConnectionOptions } from './connection';
import { subjectToolDefinitions, type SubjectCaller, type SubjectCapabilities } from './subjects';
import { unofferedToolName } from './tool-names';
import { publishedTool, sensitiveMismatches, upstreamToolDefinition, type UpstreamCaller } from './tools';

export interface UpstreamManagerOptions {
  readonly servers: readonly NamedUpstream[];
  /** The worker's catalog: upstream tools are registered into it. */
  readonly catalog: ToolCatalog;
  /** The Gatehouse database, where the tool lists are published for the gateway (absent: not published). */
  readonly publish?: Pool;
  /**
   * Where calls are marked started (`in-flight.ts`): the catalog's database, through a pool of its
   * own, so a mark never waits for a connection that a running call's ledger transaction holds.
   * @default a pool of 4 connections with the catalog pool's settings (closed by `close()`)
   */
  readonly markers?: Pool;
  /** @default nothing is logged */
  readonly log?: (line: string) => void;
}

export class UpstreamManager {
  readonly #connections = new Map<string, UpstreamConnection>();
  /** Per server isolated per agent: its agents' own connections, which its tools call over. */
  readonly #perAgent = new Map<string, AgentConnections>();
  readonly #listings = new Map<string, number>();
  /** Per server: its own tools and its resources/prompts tools, set into the catalog together. */
  readonly #defs = new Map<string, { tools: AnyToolDefinition[]; subjects: AnyToolDefinition[] }>();
  readonly #waiters = new Set<() => void>();
  readonly #markers: Pool;
  /** Stops listening for the gateways' subscription requests. */
  #unlisten: (() => Promise<void>) | undefined;
  readonly #ownMarkers: boolean;

  constructor(private readonly opts: UpstreamManagerOptions) {
    this.#ownMarkers = opts.markers === undefined;
    this.#markers = opts.markers ?? new pg.Pool({ ...opts.catalog.database.options, max: 4 });
    this.#markers.on('error', () => undefined);
    const publish = opts.publish;
    // Progress and log notifications of a running call go to the gateways, best effort.
    const relay: Partial<UpstreamConnectionOptions> = publish ? { onNote: (note) => relayUpstreamNote(publish, note) } : {};
    for (const server of opts.servers) {
      const shared = new UpstreamConnection({
        server,
        onTools: (tools) => this.#register(server, tools),
        onSubjects: (caps, subjects) => this.#registerSubjects(server, caps, subjects),
        onState: () => this.#wake(),
        ...relay,
        ...(opts.log ? { log: opts.log } : {}),
      });
      this.#connections.set(server.name, shared);
      if (server.isolate !== 'agent') continue;
      const log = opts.log;
      this.#perAgent.set(
        server.name,
        new AgentConnections({
          shared,
          // Only calls go over an agent's connection: what it lists is the shared connection's to register.
          open: (agent) =>
            new UpstreamConnection({
              server,
              onTools: () => undefined,
              ...relay,
              // An agent id is an operator's, yet shown as one line like all else in the log.
              ...(log ? { log: (line: string) => log(`${line} (agent \`${shownLine(agent)}\`'s connection)`) } : {}),
            }),
        }),
      );
    }
  }

  /** Connects every server; resolves once each has connected and listed, or failed its first attempt (it keeps retrying). */
  async start(): Promise<void> {
    if (this.opts.publish) {
      await retireUpstreamServers(this.opts.publish, [...this.#connections.keys()]);
      // A gateway's agent subscribed to a resource its policy classifies: watch it upstream.
      this.#unlisten = listenUpstream(this.opts.publish, {
        // The URI is an agent's, and the server's error may echo it: both shown as one line.
        subscribe: (server, uri, agent) =>
          void this.#connections.get(server)?.subscribe(uri, agent).catch((err: unknown) => this.opts.log?.(`upstream \`${server}\`: subscribing to \`${shownLine(uri)}\` failed: ${shownLine(err instanceof Error ? err.message : String(err))}`)),
      });
    }
    await Promise.all([...this.#connections.values()].map((c) => c.start()));
  }

  async close(): Promise<void> {
    await this.#unlisten?.();
    await Promise.all([...this.#perAgent.values()].map((p) => p.close()));
    await Promise.all([...this.#connections.values()].map((c) => c.close()));
    if (this.#ownMarkers) await this.#markers.end().catch(() => undefined);
  }

  /** The server's shared connection (the one that lists). */
  connection(server: string): UpstreamConnection | undefined {
    return this.#connections.get(server);
  }

  /** The root agents with a connection of their own to `server` open now (a server isolated per agent). */
  agentsConnected(server: string): string[] {
    return this.#perAgent.get(server)?.agents ?? [];
  }

  /** What a server's tools call over: its agents' own connections when it is isolated per agent, else the shared one. */
  #caller(server: string): UpstreamCaller & SubjectCaller {
    return this.#perAgent.get(server) ?? this.#connections.get(server)!;
  }

  /** How many listings of a server were registered so far. */
  listings(server: string): number {
    return this.#listings.get(server) ?? 0;
  }

  /** Resolves when `predicate` holds, re-checked after every listing and connection change. */
  async until(predicate: () => boolean, timeoutMs = 30_000): Promise<void> {
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`upstreams: condition not met within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
  }

  async #register(server: NamedUpstream, tools: readonly Tool[]): Promise<void> {
    const caller = this.#caller(server.name);
    const defs: AnyToolDefinition[] = [];
    const published = [];
    for (const tool of tools) {
      // A server's tool named like one of Gatehouse's own (`resources/read`) is not offered.
      const unoffered = unofferedToolName(server.name, tool.name);
      if (unoffered !== undefined) {
        this.opts.log?.(`warning: ${unoffered}`);
        continue;
      }
      try {
        defs.push(upstreamToolDefinition({ server, tool, caller, markers: this.#markers }));
        published.push(publishedTool(server.name, tool));
      } catch (err) {
        // One tool with an unusable name must not hide the server's other tools.
        this.opts.log?.(`warning: upstream \`${server.name}\`: tool \`${shownLineAtMost(tool.name, 200)}\` skipped: ${shownLine(err instanceof Error ? err.message : String(err))}`);
      }
    }
    this.#setCatalog(server.name, { tools: defs });
    for (const line of sensitiveMismatches(server, tools)) this.opts.log?.(`warning: ${line}`);
    if (this.opts.publish) {
      // The gateway's listing is a view: a database hiccup must not take the server down with it.
      await publishUpstreamTools(this.opts.publish, server.name, published).catch((err: unknown) =>
        this.opts.log?.(`upstream \`${server.name}\`: publishing its tools for the gateway failed: ${shownLine(err instanceof Error ? err.message : String(err))}`),
      );
    }
    this.#listings.set(server.name, (this.#listings.get(server.name) ?? 0) + 1);
    this.#wake();
  }

  async #registerSubjects(server: NamedUpstream, caps: SubjectCapabilities, subjects: PublishedSubjects): Promise<void> {
    this.#setCatalog(server.name, { subjects: subjectToolDefinitions(server, caps, this.#caller(server.name)) });
    if (this.opts.publish) {
      await publishUpstreamSubjects(this.opts.publish, server.name, subjects).catch((err: unknown) =>
        this.opts.log?.(`upstream \`${server.name}\`: publishing its resources and prompts for the gateway failed: ${shownLine(err instanceof Error ? err.message : String(err))}`),
      );
    }
    this.#wake();
  }

  #setCatalog(server: string, change: { tools?: AnyToolDefinition[]; subjects?: AnyToolDefinition[] }): void {
    const next = { tools: [], subjects: [], ...this.#defs.get(server), ...change };
    this.#defs.set(server, next);
    this.opts.catalog.setUpstreamTools(server, [...next.tools, ...next.subjects]);
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }
}
