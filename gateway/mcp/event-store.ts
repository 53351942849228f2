/**
 * SSE events of `/mcp` kept for resumption (the SDK's `EventStore`): a client that lost a stream
 * reconnects with `Last-Event-ID` and gets what it missed. In memory, bounded per MCP session and
 * in total (oldest evicted first), and dropped with the session. Each MCP session has a store of
 * its own: an event id is looked up only in the store of the session it was presented to, so
 * another session's id (guessed or copied) finds nothing.
 *
 * ```ts
 * const events = new McpEventBuffer();
 * const store = events.forSession(); // StreamableHTTPServerTransport({ eventStore: store, … })
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
  /** Characters of message JSON all sessions keep together. @default 32 Mi */
  readonly totalChars: number;
}

export const DEFAULT_EVENT_BOUNDS: EventBounds = { perSession: 256, total: 20_000, totalChars: 32 * 1024 * 1024 };

interface Stored {
  readonly streamId: StreamId;
  /** The message as sent; `''` for a priming event (nothing to replay). */
  readonly text: string;
  /** Key of this event in the buffer's order of arrival. */
  readonly order: number;
}

/** The gateway's events of every MCP session, with the bounds. */
export class McpEventBuffer {
  readonly #arrival = new Map<number, { readonly store: SessionEventStore; readonly eventId: EventId }>();
  #next = 0;
  #chars = 0;

  constructor(readonly bounds: EventBounds = DEFAULT_EVENT_BOUNDS) {}

  /** A new MCP session's store. */
  forSession(): SessionEventStore {
    return new SessionEventStore(this);
  }

  /** Events held now, and their characters of JSON (what the bounds count). */
  get size(): { events: number; chars: number } {
    return { events: this.#arrival.size, chars: this.#chars };
  }

  /** @internal records an event of `store` and evicts past the bounds. */
  add(store: SessionEventStore, eventId: EventId, text: string): number {
    const order = this.#next++;
    this.#arrival.set(order, { store, eventId });
    this.#chars += text.length;
    while (this.#arrival.size > this.bounds.total || (this.#chars > this.bounds.totalChars && this.#arrival.size > 1)) {
      const [oldest, e] = this.#arrival.entries().next().value!;
      this.#arrival.delete(oldest);
      e.store.evict(e.eventId);
    }
    return order;
  }

  /** @internal forgets an event its session evicted or dropped. */
  forget(order: number, chars: number): void {
    if (this.#arrival.delete(order)) this.#chars -= chars;
  }

  /** @internal an event the total bound evicted: its characters leave the count. */
  uncount(chars: number): void {
    this.#chars -= chars;
  }
}

/** One MCP session's events: what its transport stores and replays. */
export class SessionEventStore implements EventStore {
  readonly #events = new Map<EventId, Stored>();
  #seq = 0;
  #dropped = false;

  constructor(readonly buffer: McpEventBuffer) {}

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    // The SDK's priming event is `{}`: it only hands the client an id to resume from.
    const text = Object.keys(message).length === 0 ? '' : JSON.stringify(message);
    const eventId = `${streamId}_${++this.#seq}`;
    if (this.#dropped) return eventId;
    this.#events.set(eventId, { streamId, text, order: this.buffer.add(this, eventId, text) });
    while (this.#events.size > this.buffer.bounds.perSession) {
      const [oldest, e] = this.#events.entries().next().value!;
      this.#events.delete(oldest);
      this.buffer.forget(e.order, e.text.length);
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
    for (const e of this.#events.values()) this.buffer.forget(e.order, e.text.length);
    this.#events.clear();
  }

  /** @internal the buffer's total bound evicted this event. */
  evict(eventId: EventId): void {
    const e = this.#events.get(eventId);
    if (!e) return;
    this.#events.delete(eventId);
    this.buffer.uncount(e.text.length);
  }

  get size(): number {
    return this.#events.size;
  }
}
