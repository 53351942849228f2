/**
 * Open MCP sessions of this gateway process, by MCP session id: the transport, the SDK server,
 * the Gatehouse session behind it and the agent it belongs to. A session idle for longer than
 * `idleMs` is closed and its Gatehouse session ended. Ends run in the background of the request
 * that caused them; shutdown waits for them (a dropped `end` would leave the session open and its
 * slot taken), except for a session with a call held for a person, which is only waited for until it
 * has accepted the end.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AgentSession } from './agent-session';

export interface McpSessionEntry {
  readonly transport: StreamableHTTPServerTransport;
  readonly server: Server;
  readonly session: AgentSession;
  lastUsed: number;
}

export class McpSessions {
  readonly #entries = new Map<string, McpSessionEntry>();
  readonly #sweep: NodeJS.Timeout;
  readonly #ending = new Set<Promise<void>>();

  constructor(readonly idleMs: number) {
    this.#sweep = setInterval(() => void this.#closeIdle(), Math.min(idleMs, 60_000));
    this.#sweep.unref();
  }

  get(id: string): McpSessionEntry | undefined {
    return this.#entries.get(id);
  }

  add(id: string, entry: McpSessionEntry): void {
    this.#entries.set(id, entry);
  }

  /** Forgets a session whose transport closed (after a DELETE, or on shutdown). */
  remove(id: string): void {
    this.#entries.delete(id);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Ends the Gatehouse session of an MCP session its client closed, without holding up the reply. */
  endClosed(entry: McpSessionEntry, onError: (err: unknown) => void): void {
    void this.#end(entry, 'MCP session closed by the client').catch(onError);
  }

  /**
   * Closes every transport (gateway shutdown), after the ends already under way: the Gatehouse
   * sessions of open MCP sessions stay, durable in Temporal.
   */
  async closeAll(): Promise<void> {
    clearInterval(this.#sweep);
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.allSettled(entries.map((e) => e.transport.close()));
    await Promise.allSettled(this.#ending);
  }

  /** Ends `entry`'s Gatehouse session, tracked until done so that shutdown can wait for it. */
  async #end(entry: McpSessionEntry, reason: string): Promise<void> {
    const ending = entry.session.end(reason);
    this.#ending.add(ending);
    try {
      await ending;
    } finally {
      this.#ending.delete(ending);
    }
  }

  async #closeIdle(): Promise<void> {
    const now = Date.now();
    for (const [id, e] of this.#entries) {
      if (now - e.lastUsed < this.idleMs) continue;
      this.#entries.delete(id);
      await e.transport.close().catch(() => undefined);
      await this.#end(e, 'MCP session idle').catch(() => undefined);
    }
  }
}
