/**
 * SSE events of `/mcp` kept for resumption (the SDK's `EventStore`): a client that lost a stream
 * reconnects with `Last-Event-ID` and gets what it missed. In memory, bounded per MCP session, per
 * root agent in events and in characters (an agent past its share loses its own oldest events,
 * never another agent's: a priming event has no characters, but it is an event) and in total
 * (oldest evicted first), and dropped with the session. Each MCP session has a store of
 * its own: an event id is looked up only in the store of the session it was presented to, so
 * another session's id (guessed or copied) finds nothing.
 *
 * ```ts
 * const events = new McpEventBuffer();
 * const store = events.forSession('billing-bot'); // StreamableHTTPServerTransport({ eventStore: store, … })
 * store.drop(); // when the MCP session ends
 * ```
 */
import type { EventId, EventStore, StreamId } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export interface EventBounds {
  /** Events one MCP session keeps (its oldest go first). @default 256 */
  readonly perSession: number;
  /** Events all sessions of this gateway keep together (the gateway's oldest go first). @default 20 000 */
  readonly total: number;
  /** Events the MCP sessions of one root agent keep together (its oldest go first). @default 2 500 */
  readonly perAgent: number;
  /** Characters of message JSON all sessions keep together. @default 32 Mi */
  readonly totalChars: number;
  /** Characters of message JSON the MCP sessions of one root agent keep together (its oldest go first). @default 4 Mi */
  readonly perAgentChars: number;
}

/** Each agent's shares are an eighth of the totals: one agent alone never reaches them. */
export const DEFAULT_EVENT_BOUNDS: EventBounds = { perSession: 256, total: 20_000, perAgent: 2_500, totalChars: 32 * 1024 * 1024, perAgentChars: 4 * 1024 * 1024 };

/** An event in a buffer's order of arrival. */
interface Arrival {
  readonly store: SessionEventStore;
  readonly eventId: EventId;
}

interface Stored {
  readonly streamId: StreamId;
  /** The message as sent; `''` for a priming event (nothing to replay). */
  readonly text: string;
  /** Key of this event in the buffer's order of arrival. */
  readonly order: number;
}

/** The gateway's events of every MCP session, with the bounds. */
export class McpEventBuffer {
  readonly #arrival = new Map<number, Arrival>();
  /** Each root agent's events in order of arrival, and their characters. */
  readonly #agents = new Map<string, { readonly arrival: Map<number, Arrival>; chars: number }>();
  #next = 0;
  #chars = 0;

  constructor(readonly bounds: EventBounds = DEFAULT_EVENT_BOUNDS) {}

  /** A new MCP session's store, counted against its root agent's share. */
  forSession(agent: string): SessionEventStore {
    return new SessionEventStore(this, agent);
  }

  /** Events held now, and their characters of JSON (what the bounds count). */
  get size(): { events: number; chars: number } {
    return { events: this.#arrival.size, chars: this.#chars };
  }

  /** Characters one root agent's sessions hold now. */
  charsOf(agent: string): number {
    return this.#agents.get(agent)?.chars ?? 0;
  }

  /** @internal records an event of `store` and evicts past the bounds: the agent's own first. */
  add(store: SessionEventStore, eventId: EventId, text: string): number {
    const order = this.#next++;
    const mine = this.#agents.get(store.agent) ?? { arrival: new Map<number, Arrival>(), chars: 0 };
    this.#agents.set(store.agent, mine);
    this.#arrival.set(order, { store, eventId });
    mine.arrival.set(order, { store, eventId });
    this.#chars += text.length;
    mine.chars += text.length;
    while (mine.arrival.size > this.bounds.perAgent || (mine.chars > this.bounds.perAgentChars && mine.arrival.size > 1)) this.#evict(mine.arrival.entries().next().value!);
    while (this.#arrival.size > this.bounds.total || (this.#chars > this.bounds.totalChars && this.#arrival.size > 1)) this.#evict(this.#arrival.entries().next().value!);
    return order;
  }

  #evict([order, e]: [number, Arrival]): void {
    e.store.evict(e.eventId);
    this.#arrival.delete(order);
  }

  /** @internal forgets an event its session evicted, dropped, or the bounds evicted. */
  forget(agent: string, order: number, chars: number): void {
    this.#arrival.delete(order);
    const mine = this.#agents.get(agent);
    if (!mine?.arrival.delete(order)) return;
    this.#chars -= chars;
    mine.chars -= chars;
    if (mine.arrival.size === 0) this.#agents.delete(agent);
  }
}

/** One MCP session's events: what its transport stores and replays. */
export class SessionEventStore implements EventStore {
  readonly #events = new Map<EventId, Stored>();
  #seq = 0;
  #dropped = false;

  constructor(
    readonly buffer: McpEventBuffer,
    /** The root agent whose share this session's events count against. */
    readonly agent: string,
  ) {}

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    // The SDK's priming event is `{}`: it only hands the client an id to resume from.
    const text = Object.keys(message).length === 0 ? '' : JSON.stringify(message);
    const eventId = `${streamId}_${++this.#seq}`;
    if (this.#dropped) return eventId;
    this.#events.set(eventId, { streamId, text, order: this.buffer.add(this, eventId, text) });
    while (this.#events.size > this.buffer.bounds.perSession) {
      const [oldest, e] = this.#events.entries().next().value!;
      this.#events.delete(oldest);
      this.buffer.forget(this.agent, e.order, e.text.length);
    }
    return eventId;
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    return this.#events.get(eventId)?.streamId;
  }

  /** Sends the events of `lastEventId`'s stream that came after it; an id this session does not hold is refused. */
  async replayEventsAfter(lastEventId: EventId, { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> }): Promise<StreamId> {
    const last = this.#events.get(lastEventId);
    if (!last) throw new Error(`no event \`${lastEventId}\` in this MCP session`);
    const after = [...this.#events].filter(([, e]) => e.streamId === last.streamId && e.order > last.order && e.text !== '');
    for (const [id, e] of after) await send(id, JSON.parse(e.text) as JSONRPCMessage);
    return last.streamId;
  }

  /** The MCP session ended: its events go, and nothing more is kept. */
  drop(): void {
    this.#dropped = true;
    for (const e of this.#events.values()) this.buffer.forget(this.agent, e.order, e.text.length);
    this.#events.clear();
  }

  /** @internal a bound of the buffer evicted this event. */
  evict(eventId: EventId): void {
    const e = this.#events.get(eventId);
    if (!e) return;
    this.#events.delete(eventId);
    this.buffer.forget(this.agent, e.order, e.text.length);
  }

  get size(): number {
    return this.#events.size;
  }
}
