/**
 * An upstream server isolated per agent (`isolate: agent`): each root agent's calls go over a
 * connection of its own (its own upstream MCP session; over stdio its own process), so what the
 * server keeps per session or process — a browser's page and cookies, a current directory, an open
 * transaction — is never another agent's. A root agent's sub-agents share its connection.
 *
 * A connection opens on the agent's first call, and closes once it has been idle (no call running)
 * for `AGENT_CONNECTION_IDLE_MS`, or, least recently used first, when more than
 * `MAX_AGENT_CONNECTIONS` are open: the agent's next call then opens a new one, with none of the
 * old state. A connection with a call running is never closed for the bound: while more agents'
 * calls run at once, more are open, until they end.
 *
 * The server's shared connection still lists its tools (the catalog is per server), serves its
 * resource subscriptions, and runs what no agent is named for: the blast-radius estimates made
 * before a decision (their requests carry no agent). Node-only.
 */
import { ToolError } from '../tools/errors';
import type { UpstreamConnection } from './connection';
import type { SubjectCaller } from './subjects';
import type { UpstreamCaller } from './tools';

/** Most agents' connections kept open per server (a stdio server is a process each: a browser, say). */
export const MAX_AGENT_CONNECTIONS = 16;
/** How long an agent's connection stays open with no call running. */
export const AGENT_CONNECTION_IDLE_MS = 5 * 60_000;

export interface AgentConnectionsOptions {
  /** The server's shared connection: calls that name no agent go over it. */
  readonly shared: UpstreamConnection;
  /** Makes a connection for a root agent (not started). */
  readonly open: (agent: string) => UpstreamConnection;
  /** @default MAX_AGENT_CONNECTIONS */
  readonly max?: number;
  /** @default AGENT_CONNECTION_IDLE_MS */
  readonly idleMs?: number;
}

interface Held {
  readonly connection: UpstreamConnection;
  /** Calls running over it. */
  running: number;
  lastUsed: number;
  idle: NodeJS.Timeout | undefined;
}

export class AgentConnections implements UpstreamCaller, SubjectCaller {
  readonly #held = new Map<string, Held>();
  #closed = false;

  constructor(private readonly opts: AgentConnectionsOptions) {}

  /** The root agents with a connection open now. */
  get agents(): string[] {
    return [...this.#held.keys()];
  }

  callTool: UpstreamCaller['callTool'] = (tool, args, opts) =>
    opts.agent === undefined ? this.opts.shared.callTool(tool, args, opts) : this.#over(opts.agent, (c) => c.callTool(tool, args, opts));

  request: SubjectCaller['request'] = (method, params, opts) =>
    opts.agent === undefined ? this.opts.shared.request(method, params, opts) : this.#over(opts.agent, (c) => c.request(method, params, opts));

  async close(): Promise<void> {
    this.#closed = true;
    const held = [...this.#held.values()];
    this.#held.clear();
    for (const h of held) clearTimeout(h.idle);
    await Promise.all(held.map((h) => h.connection.close()));
  }

  /** Runs `fn` over the agent's connection, opened on its first use. */
  async #over<T>(agent: string, fn: (c: UpstreamConnection) => Promise<T>): Promise<T> {
    if (this.#closed) throw new ToolError('UpstreamUnavailable', `upstream server \`${this.opts.shared.name}\` is closed: the worker is stopping`, { retryable: true });
    let held = this.#held.get(agent);
    if (held === undefined) {
      held = { connection: this.opts.open(agent), running: 0, lastUsed: Date.now(), idle: undefined };
      this.#held.set(agent, held);
    }
    // Counted before anything is awaited: a connection with a call running is never closed under it.
    held.running += 1;
    clearTimeout(held.idle);
    held.idle = undefined;
    this.#trim();
    try {
      await held.connection.start();
      return await fn(held.connection);
    } finally {
      held.running -= 1;
      held.lastUsed = Date.now();
      if (held.running === 0) this.#closeWhenIdle(agent, held);
      this.#trim();
    }
  }

  #closeWhenIdle(agent: string, held: Held): void {
    held.idle = setTimeout(() => {
      if (this.#held.get(agent) === held && held.running === 0) this.#drop(agent, held);
    }, this.opts.idleMs ?? AGENT_CONNECTION_IDLE_MS);
    held.idle.unref();
  }

  /** Closes the least recently used idle connections while more than the bound are open. */
  #trim(): void {
    const max = this.opts.max ?? MAX_AGENT_CONNECTIONS;
    while (this.#held.size > max) {
      let oldest: [string, Held] | undefined;
      for (const entry of this.#held) if (entry[1].running === 0 && (oldest === undefined || entry[1].lastUsed < oldest[1].lastUsed)) oldest = entry;
      if (oldest === undefined) return; // every one has a call running
      this.#drop(...oldest);
    }
  }

  #drop(agent: string, held: Held): void {
    this.#held.delete(agent);
    clearTimeout(held.idle);
    void held.connection.close();
  }
}
