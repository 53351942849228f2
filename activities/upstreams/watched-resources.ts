/**
 * The resources gateways asked a worker to watch on one upstream server, by when each was last
 * asked for. A gateway asks again every `SUBSCRIPTION_RENEW_MS` while one of its MCP sessions
 * watches a resource, so a worker that restarted learns them again, and one that nobody asks for
 * any more is dropped after the time to live: the bound holds what is watched now, not every
 * resource ever watched (which would end all new subscriptions once reached). Node-free, no I/O.
 */
import { SUBSCRIPTION_RENEW_MS } from '../../audit/upstream-listing';

/** A resource no gateway asked for again within three renewals is no longer watched. */
export const SUBSCRIPTION_TTL_MS = 3 * SUBSCRIPTION_RENEW_MS;

/** What a gateway's request comes to: subscribe upstream (`new`), nothing (`known`), or not watched (`full`). */
export interface Asked {
  readonly outcome: 'new' | 'known' | 'full';
  /** Resources dropped to make room (no gateway asked for them within the time to live): unsubscribe them upstream. */
  readonly dropped: readonly string[];
}

export class WatchedResources {
  readonly #askedAt = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly ttlMs: number = SUBSCRIPTION_TTL_MS,
  ) {}

  /** Notes a gateway's request for `uri` at `now` (ms). The expired are dropped only when a new one comes. */
  ask(uri: string, now: number): Asked {
    if (this.#askedAt.has(uri)) {
      this.#askedAt.set(uri, now);
      return { outcome: 'known', dropped: [] };
    }
    const dropped: string[] = [];
    for (const [watched, at] of this.#askedAt) {
      if (now - at > this.ttlMs) {
        this.#askedAt.delete(watched);
        dropped.push(watched);
      }
    }
    if (this.#askedAt.size >= this.max) return { outcome: 'full', dropped };
    this.#askedAt.set(uri, now);
    return { outcome: 'new', dropped };
  }

  /** The resources watched now (subscribed again after a reconnect). */
  get uris(): string[] {
    return [...this.#askedAt.keys()];
  }
}
