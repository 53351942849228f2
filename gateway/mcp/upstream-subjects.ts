/**
 * Upstream MCP servers' resources, resource templates and prompts on the gateway, as the worker
 * published them (`audit/upstream-listing.ts`): what a session's policy classifies
 * (`upstreamResources`, `upstreamPrompts`) is listed, nothing else. Prompts are named
 * `<server>.<prompt>` like tools; resources keep their own URIs (tool results link to them), and a
 * URI is served by the first server, in the policy's order, whose patterns classify it.
 *
 * Also the one LISTEN connection of the gateway for upstream news: a server's lists changed (every
 * MCP session is told `list_changed`), progress and log notifications the worker relays for a
 * running call (delivered to the MCP request that made it), and updates of subscribed resources.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Prompt, Resource, ResourceTemplate } from '@modelcontextprotocol/sdk/types.js';
import {
  listenUpstream,
  readUpstreamSubjects,
  relayUpstreamNote,
  requestUpstreamSubscription,
  SUBSCRIPTION_RENEW_MS,
  type PublishedSubjects,
  type UpstreamNote,
} from '../../audit/upstream-listing';
import { promptPatternFor, resourcePatternFor, serverSubjects, type PolicyDocument } from '../../policies';
import { rootAgentOf } from '../../policies/admissions';
import type { ListingSession, PolicyOf } from './upstream-tools';

/** What a session may see of the upstreams' resources and prompts, and where its reads go. */
export interface UpstreamSubjects {
  resources(s: ListingSession): Promise<Resource[]>;
  templates(s: ListingSession): Promise<ResourceTemplate[]>;
  prompts(s: ListingSession): Promise<Prompt[]>;
  /**
   * The server a URI is read from: the first whose policy patterns classify it; else (so the
   * session's workflow records and refuses the attempt) a server that lists it, or one of its
   * templates' fixed prefix, or its scheme; undefined when no server has anything like it.
   */
  resourceServer(s: ListingSession, uri: string): Promise<string | undefined>;
  /**
   * Subscribes to a resource the session's policy classifies: asks the worker to watch it upstream
   * (where the server supports it), and again every `renewMs` until `stop` (a worker drops what no
   * gateway asks for, and a restarted one learns it again). Undefined when no server classifies it;
   * `full` when the sessions of `agent`'s root agent on this gateway already watch `MAX_WATCHED_PER_AGENT`.
   */
  subscribe(s: ListingSession, uri: string, agent: string): Promise<Watch | 'full' | undefined>;
  /** Tells `listener` of every `notifications/resources/updated` an upstream sent; returns a function that stops. */
  onResourceUpdated(listener: (server: string, uri: string) => void): () => void;
  /** Tells `listener` of every server whose lists changed; returns a function that stops. */
  onListsChanged(listener: (server: string) => void): () => void;
  /**
   * Resolves once every note relayed before now has been delivered: a NOTIFY of its own, which
   * PostgreSQL delivers after those committed before it (at most `timeoutMs` of waiting).
   */
  barrier(timeoutMs?: number): Promise<void>;
  /** Delivers the notes relayed for one call (key `<sessionId>:<update id>`) while it runs. */
  listenNotes(key: string, deliver: (method: string, params: Record<string, unknown>) => void): NotesListener;
  close(): Promise<void>;
}

/** One session's subscription to an upstream resource. */
export interface Watch {
  /** The server that serves the resource. */
  readonly server: string;
  /** Ends this session's interest: the gateway stops asking for it once no session of its watches it. */
  stop(): void;
}

/** One call's notes, while it runs. */
export interface NotesListener {
  /**
   * True while the gateway's LISTEN has been in place since the call began listening: else a note
   * may have been relayed while it was down (and went nowhere), so none is waited for.
   */
  unbroken(): boolean;
  stop(): void;
}

/**
 * Most resources the sessions of one root agent watch together on one gateway: a worker watches at
 * most 1,000 per server for everyone, so one agent's many sessions must not take them all.
 */
export const MAX_WATCHED_PER_AGENT = 200;

/** Longest a call's answer waits for its relayed notes (a lost NOTIFY must not hold it longer). */
export const NOTES_WAIT_MS = 2_000;

export function publishedUpstreamSubjects(pool: Pool, policyOf: PolicyOf, options: { readonly ttlMs?: number; readonly renewMs?: number } = {}): UpstreamSubjects {
  const ttlMs = options.ttlMs ?? 1_000;
  const renewMs = options.renewMs ?? SUBSCRIPTION_RENEW_MS;
  let cached: { at: number; rows: Map<string, PublishedSubjects> } = { at: -Infinity, rows: new Map() };
  let pending: Promise<Map<string, PublishedSubjects>> | undefined;
  const published = async (): Promise<Map<string, PublishedSubjects>> => {
    if (performance.now() - cached.at < ttlMs) return cached.rows;
    pending ??= readUpstreamSubjects(pool)
      .then((rows) => {
        cached = { at: performance.now(), rows };
        return rows;
      })
      .catch(() => cached.rows)
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
  const both = (s: ListingSession) => Promise.all([published(), policyOf(s)]);

  const listsListeners = new Set<(server: string) => void>();
  const notes = new Map<string, (method: string, params: Record<string, unknown>) => void>();
  const updatedListeners = new Set<(server: string, uri: string) => void>();
  /** The resources this gateway's sessions watch (by server and URI), and how many sessions of each root agent watch each. */
  const watched = new Map<string, { readonly server: string; readonly uri: string; readonly agents: Map<string, number> }>();
  /** Subscriptions held by the sessions of each root agent. */
  const perAgent = new Map<string, number>();
  let renewal: NodeJS.Timeout | undefined;
  const renew = () => {
    // Once per root agent: the worker bounds what each agent watches over every gateway.
    for (const w of watched.values()) for (const root of w.agents.keys()) void requestUpstreamSubscription(pool, w.server, w.uri, root).catch(() => undefined);
  };
  let stop: (() => Promise<void>) | undefined;
  /** The LISTEN connection's number while it is up (each new connection a new number); 0 while down. */
  let listenUp = 0;
  let connections = 0;
  const listening = () => {
    stop ??= listenUpstream(pool, {
      connected: (up) => {
        listenUp = up ? ++connections : 0;
      },
      lists: (server) => {
        cached = { at: -Infinity, rows: cached.rows }; // the next listing reads again
        for (const l of listsListeners) l(server);
      },
      note: (note: UpstreamNote) => {
        if (note.method === 'notifications/resources/updated' && note.key.startsWith('updated:') && typeof note.params.uri === 'string') {
          for (const l of updatedListeners) l(note.key.slice('updated:'.length), note.params.uri);
        } else notes.get(note.key)?.(note.method, note.params);
      },
    });
  };

  return {
    async resources(s) {
      const [rows, policy] = await both(s);
      if (!policy) return [];
      return [...rows].flatMap(([server, r]) => (r.resources as unknown as Resource[]).filter((x) => typeof x.uri === 'string' && routeOf(policy, rows, x.uri) === server));
    },
    async templates(s) {
      const [rows, policy] = await both(s);
      if (!policy) return [];
      const classified = (server: string, t: ResourceTemplate) => typeof t.uriTemplate === 'string' && resourcePatternFor(serverSubjects(policy, server).resources, t.uriTemplate) !== undefined;
      return [...rows].flatMap(([server, r]) => (r.templates as unknown as ResourceTemplate[]).filter((t) => classified(server, t)));
    },
    async prompts(s) {
      const [rows, policy] = await both(s);
      if (!policy) return [];
      return [...rows].flatMap(([server, r]) =>
        (r.prompts as unknown as Prompt[])
          .filter((p) => typeof p.name === 'string' && promptPatternFor(serverSubjects(policy, server).prompts, p.name) !== undefined)
          .map((p) => ({ ...p, name: `${server}.${p.name}`, title: p.title ?? p.name })),
      );
    },
    async resourceServer(s, uri) {
      const [rows, policy] = await both(s);
      if (!policy) return undefined;
      return routeOf(policy, rows, uri) ?? likelyServer(rows, uri);
    },
    async subscribe(s, uri, agent) {
      const [rows, policy] = await both(s);
      const server = policy ? routeOf(policy, rows, uri) : undefined;
      if (server === undefined) return undefined;
      const root = rootAgentOf(agent);
      const held = perAgent.get(root) ?? 0;
      if (held >= MAX_WATCHED_PER_AGENT) return 'full';
      perAgent.set(root, held + 1);
      await requestUpstreamSubscription(pool, server, uri, root);
      const key = JSON.stringify([server, uri]);
      const w = watched.get(key) ?? { server, uri, agents: new Map<string, number>() };
      w.agents.set(root, (w.agents.get(root) ?? 0) + 1);
      watched.set(key, w);
      if (!renewal) {
        renewal = setInterval(renew, renewMs);
        renewal.unref();
      }
      let stopped = false;
      return {
        server,
        stop: () => {
          if (stopped) return;
          stopped = true;
          const sessions = (w.agents.get(root) ?? 1) - 1;
          if (sessions > 0) w.agents.set(root, sessions);
          else w.agents.delete(root);
          if (w.agents.size === 0) watched.delete(key);
          const left = (perAgent.get(root) ?? 1) - 1;
          if (left > 0) perAgent.set(root, left);
          else perAgent.delete(root);
        },
      };
    },
    onResourceUpdated(listener) {
      listening();
      updatedListeners.add(listener);
      return () => updatedListeners.delete(listener);
    },
    onListsChanged(listener) {
      listening();
      listsListeners.add(listener);
      return () => listsListeners.delete(listener);
    },
    async barrier(timeoutMs = NOTES_WAIT_MS) {
      listening();
      if (listenUp === 0) return; // nothing relayed could arrive, nor the barrier's own NOTIFY
      const key = `barrier:${randomUUID()}`;
      let timer: NodeJS.Timeout | undefined;
      const reached = new Promise<void>((resolve) => {
        notes.set(key, () => resolve());
        timer = setTimeout(resolve, timeoutMs);
      });
      try {
        await relayUpstreamNote(pool, { key, method: 'notifications/message', params: {} });
        await reached;
      } catch {
        // the database did not take it: nothing to wait for
      } finally {
        clearTimeout(timer);
        notes.delete(key);
      }
    },
    listenNotes(key, deliver) {
      listening();
      notes.set(key, deliver);
      const since = listenUp;
      return { unbroken: () => since !== 0 && listenUp === since, stop: () => void notes.delete(key) };
    },
    async close() {
      clearInterval(renewal);
      watched.clear();
      perAgent.clear();
      listsListeners.clear();
      updatedListeners.clear();
      notes.clear();
      await stop?.();
    },
  };
}

/** The first server, in the policy's order, whose patterns classify the URI (and that publishes anything). */
function routeOf(policy: PolicyDocument, rows: Map<string, PublishedSubjects>, uri: string): string | undefined {
  for (const [server, patterns] of Object.entries(policy.upstreamResources ?? {})) {
    if (rows.has(server) && resourcePatternFor(patterns, uri) !== undefined) return server;
  }
  return undefined;
}

/** A server that lists the URI, has a template whose fixed prefix it starts with, or lists a URI of its scheme. */
function likelyServer(rows: Map<string, PublishedSubjects>, uri: string): string | undefined {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(uri)?.[0];
  const checks: ((r: PublishedSubjects) => boolean)[] = [
    (r) => r.resources.some((x) => x.uri === uri),
    (r) => r.templates.some((t) => typeof t.uriTemplate === 'string' && uri.startsWith(t.uriTemplate.split('{')[0]!)),
    (r) => scheme !== undefined && [...r.resources.map((x) => x.uri), ...r.templates.map((t) => t.uriTemplate)].some((u) => typeof u === 'string' && u.startsWith(scheme)),
  ];
  for (const check of checks) for (const [server, r] of rows) if (check(r)) return server;
  return undefined;
}
