/**
 * Open MCP sessions of this gateway process, by MCP session id: the transport, the SDK server,
 * the Gatehouse session behind it and the agent it belongs to. A root agent has at most `perAgent`
 * MCP sessions open at once (its open-session cap), counted from `initialize` on: an MCP session is
 * memory of the gateway's whether or not its Gatehouse session still runs. One whose Gatehouse
 * session is over (ended through `/v1`, or found over when its slot is freed) is closed. A session
 * idle for longer than `idleMs` is closed and its Gatehouse session ended. Ends run in the
 * background of the request that caused them; shutdown waits for them (a dropped `end` would leave
 * the session open and its slot taken), except for a session with a call held for a person, which
 * is only waited for until it has accepted the end.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { rootAgentOf } from '../../policies/agent-id';
import { Problem } from '../problems';
import type { AgentSession } from './agent-session';

export interface McpSessionEntry {
  readonly transport: StreamableHTTPServerTransport;
  readonly server: Server;
  readonly session: AgentSession;
  lastUsed: number;
}

export interface McpSessionsOptions {
  /** An MCP session unused this long is closed and its Gatehouse session ended. */
  readonly idleMs: number;
  /** MCP sessions one root agent may have open at once. @default no bound */
  readonly perAgent?: number;
}

export class McpSessions {
  readonly idleMs: number;
  readonly perAgent: number;
  readonly #entries = new Map<string, McpSessionEntry>();
  /** Root agent → its open MCP sessions (with their entry once initialized): what `perAgent` bounds. */
  readonly #open = new Map<string, Map<AgentSession, McpSessionEntry | undefined>>();
  readonly #sweep: NodeJS.Timeout;
  readonly #ending = new Set<Promise<void>>();

  constructor(options: McpSessionsOptions) {
    this.idleMs = options.idleMs;
    this.perAgent = options.perAgent ?? Infinity;
    this.#sweep = setInterval(() => void this.#closeIdle(), Math.min(this.idleMs, 60_000));
    this.#sweep.unref();
  }

  /**
   * Counts a new MCP session (at `initialize`, before anything of it listens or has an id) against
   * its root agent's bound, or throws a 429 problem at the bound. The count and the check are one
   * step, so concurrent `initialize` requests cannot both take the last place.
   */
  claim(session: AgentSession): void {
    const root = rootAgentOf(session.caller.agentId);
    const open = this.#open.get(root) ?? new Map<AgentSession, McpSessionEntry | undefined>();
    if (open.size >= this.perAgent) {
      throw new Problem('too-many-sessions', `agent \`${root}\` has ${this.perAgent} MCP sessions open, the most it may have: close one (\`DELETE /mcp\`) first`, { limit: this.perAgent }, 5);
    }
    open.set(session, undefined);
    this.#open.set(root, open);
  }

  get(id: string): McpSessionEntry | undefined {
    return this.#entries.get(id);
  }

  /** Records an initialized MCP session (claimed before) under its id. */
  add(id: string, entry: McpSessionEntry): void {
    this.#entries.set(id, entry);
    this.#open.get(rootAgentOf(entry.session.caller.agentId))?.set(entry.session, entry);
  }

  /** Forgets a session whose transport closed (after a DELETE, on shutdown), or whose `initialize` failed. */
  remove(entry: McpSessionEntry): void {
    const id = entry.transport.sessionId;
    if (id !== undefined && this.#entries.get(id) === entry) this.#entries.delete(id);
    const root = rootAgentOf(entry.session.caller.agentId);
    const open = this.#open.get(root);
    if (open?.delete(entry.session) && open.size === 0) this.#open.delete(root);
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Closes the MCP sessions of `rootAgentId` whose slots were freed (`sessionIds`): their Gatehouse
   * sessions are over, so nothing more can run through them. Their transports' `onclose` forgets them.
   */
  closeReleased(rootAgentId: string, sessionIds: readonly string[]): void {
    const released = new Set(sessionIds);
    for (const [session, entry] of this.#open.get(rootAgentId) ?? []) {
      const slot = session.slotId;
      if (entry && slot !== undefined && released.has(slot)) void entry.transport.close().catch(() => undefined);
    }
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
    this.#open.clear();
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
    for (const e of this.#entries.values()) {
      if (now - e.lastUsed < this.idleMs) continue;
      this.remove(e);
      await e.transport.close().catch(() => undefined);
      await this.#end(e, 'MCP session idle').catch(() => undefined);
    }
  }
}
