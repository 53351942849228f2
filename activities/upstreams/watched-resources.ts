/**
 * The resources gateways asked a worker to watch on one upstream server, by root agent and when
 * each last asked. A gateway asks again every `SUBSCRIPTION_RENEW_MS` while one of its MCP sessions
 * watches a resource, so a worker that restarted learns them again, and what nobody asks for any
 * more is dropped after the time to live: the bounds hold what is watched now, not every resource
 * ever watched (which would end all new subscriptions once reached).
 *
 * Two bounds: the server's (`max` resources at once, for everyone), and each root agent's
 * (`perAgent`, counted here, in the worker, over every gateway: a gateway's own bound per agent is
 * its replica's alone, so an agent with sessions on five gateways could otherwise take the whole
 * server's). A resource watched for several agents counts against each; it is watched while one
 * of them still asks. Node-free, no I/O.
 */
import { SUBSCRIPTION_RENEW_MS } from '../../audit/upstream-listing';

/** A resource no gateway asked for again within three renewals is no longer watched. */
export const SUBSCRIPTION_TTL_MS = 3 * SUBSCRIPTION_RENEW_MS;

/**
 * The agent a request names no agent for (a gateway older than the agent in the payload), as one
 * bucket with one agent's bound: its agents keep their subscriptions through a rolling upgrade, and
 * together take no more than one agent would. No agent id is empty (`AGENT_ID_PATTERN`).
 */
export const UNKNOWN_AGENT = '';

/**
 * What a gateway's request comes to: subscribe upstream (`new`), nothing (`known`: watched already),
 * or not watched — the server watches its most (`full`), or the agent does (`agent-full`).
 */
export interface Asked {
  readonly outcome: 'new' | 'known' | 'full' | 'agent-full';
  /** Resources dropped to make room (no gateway asked for them within the time to live): unsubscribe them upstream. */
  readonly dropped: readonly string[];
}

export class WatchedResources {
  /** Per resource: the root agents it is watched for, by when each last asked. */
  readonly #askedAt = new Map<string, Map<string, number>>();
  /** Per root agent: how many resources it is counted for. */
  readonly #perAgent = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly perAgent: number,
    private readonly ttlMs: number = SUBSCRIPTION_TTL_MS,
  ) {}

  /** Notes a gateway's request for `uri` for root agent `agent` at `now` (ms). The expired are dropped only when a new one comes. */
  ask(uri: string, agent: string, now: number): Asked {
    const agents = this.#askedAt.get(uri);
    if (agents?.has(agent)) {
      agents.set(agent, now);
      return { outcome: 'known', dropped: [] };
    }
    const dropped = this.#expire(now);
    if ((this.#perAgent.get(agent) ?? 0) >= this.perAgent) return { outcome: 'agent-full', dropped };
    const watched = this.#askedAt.get(uri);
    if (watched === undefined && this.#askedAt.size >= this.max) return { outcome: 'full', dropped };
    this.#askedAt.set(uri, (watched ?? new Map<string, number>()).set(agent, now));
    this.#perAgent.set(agent, (this.#perAgent.get(agent) ?? 0) + 1);
    return { outcome: watched === undefined ? 'new' : 'known', dropped };
  }

  /** The resources watched now (subscribed again after a reconnect). */
  get uris(): string[] {
    return [...this.#askedAt.keys()];
  }

  /** How many resources `agent` is counted for. */
  heldBy(agent: string): number {
    return this.#perAgent.get(agent) ?? 0;
  }

  /** Forgets every request older than the time to live; returns the resources no agent asks for any more. */
  #expire(now: number): string[] {
    const dropped: string[] = [];
    for (const [uri, agents] of this.#askedAt) {
      for (const [agent, at] of agents) {
        if (now - at <= this.ttlMs) continue;
        agents.delete(agent);
        const left = (this.#perAgent.get(agent) ?? 1) - 1;
        if (left > 0) this.#perAgent.set(agent, left);
        else this.#perAgent.delete(agent);
      }
      if (agents.size === 0) {
        this.#askedAt.delete(uri);
        dropped.push(uri);
      }
    }
    return dropped;
  }
}
