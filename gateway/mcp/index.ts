/**
 * MCP on the gateway: Streamable HTTP at `/mcp` (`@modelcontextprotocol/sdk`). Every request is
 * authenticated with the agent credential (`Authorization: Bearer …`, the gateway's
 * `authenticate`); an MCP session belongs to the agent that initialized it, and is one Gatehouse
 * session, started with that agent's credential once its intent is declared. It takes a slot of
 * the agent's open-session cap at `initialize` and frees it when it is closed or idle for `idleMs`;
 * a root agent has at most that cap of MCP sessions open, and one whose Gatehouse session is over
 * (ended through `/v1`, or found halted when its slot is freed) is closed with it.
 * A JSON-RPC batch is refused, or charged one request per message, before the SDK sees it (`batches.ts`).
 *
 * ```ts
 * registerMcp(app, { gatehouse: deps.client, tools: deps.catalog?.tools() ?? [] });
 * ```
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Gatehouse } from '../../client';
import type { Admission, SessionAdmissions } from '../admissions';
import { authenticate as gatewayAuthenticate } from '../auth';
import { Problem } from '../problems';
import { rootAgentOf } from '../../policies/agent-id';
import { AgentSession } from './agent-session';
import { checkBatch } from './batches';
import type { McpCaller } from './caller';
import { McpEventBuffer, type EventBounds } from './event-store';
import { createMcpServer } from './mcp-server';
import { McpSessions, type McpSessionEntry } from './registry';
import type { McpToolInfo } from './tools';
import type { UpstreamToolSource } from './upstream-tools';

export type { McpCaller } from './caller';
export type { McpToolInfo } from './tools';
export { publishedUpstreamTools, upstreamMcpTool, type UpstreamToolSource } from './upstream-tools';
export { REASONING_META_KEY } from './mcp-server';

export const MCP_PATH = '/mcp';
/** Header with which a client may declare the session's intent (instead of `gatehouse_declare_intent`). */
export const INTENT_HEADER = 'x-gatehouse-intent';

export interface McpDeps {
  /** The gateway's Temporal client: sessions start with each caller's own credential. */
  readonly gatehouse: Gatehouse;
  /** The catalog's tools (`catalog.tools()`): what `tools/list` shows. */
  readonly tools: readonly McpToolInfo[];
  /** Tools of upstream MCP servers as the worker published them (`publishedUpstreamTools`), listed after the catalog's. */
  readonly upstreamTools?: UpstreamToolSource;
  /** Verifies the bearer credential; throws a 401 `Problem`. @default the gateway's `authenticate` */
  readonly authenticate?: (request: FastifyRequest) => Promise<McpCaller>;
  /** How long a `tools/call` waits for its outcome before answering "held for approval". @default `GATEHOUSE_MCP_HOLD_SECONDS` (20) × 1000 */
  readonly holdWaitMs?: number;
  /** Progress notification period of `gatehouse_await_approval`. @default 5 000 */
  readonly progressEveryMs?: number;
  /** An MCP session unused this long is closed and its Gatehouse session ended. @default 30 minutes (the gateway: `GATEHOUSE_MCP_IDLE_SECONDS`) */
  readonly idleMs?: number;
  /**
   * The gateway's per-agent request rate: takes `count` requests at once or throws a 429 `Problem`.
   * The gateway's hook already took one for every request; this door takes a batch's other messages.
   */
  readonly takeRequests?: (agentId: string, count: number) => void;
  /**
   * The most requests `takeRequests` ever grants an agent at once (the gateway's `burst`): a batch of
   * more messages could never be admitted, and is refused (400) before any of them is charged.
   */
  readonly burst?: number;
  /** The gateway's open-session cap (shared with `/v1`): a Gatehouse session starts only with a slot. */
  readonly admissions?: SessionAdmissions;
  /** How many SSE events are kept for clients that resume a stream with `Last-Event-ID`. @default `DEFAULT_EVENT_BOUNDS` */
  readonly eventBounds?: EventBounds;
}

/** The `retry` an SSE stream's priming event suggests: how long a client waits before resuming a dropped stream. */
export const SSE_RETRY_MS = 1_000;

export function registerMcp(app: FastifyInstance, deps: McpDeps): McpSessions {
  const authenticate = deps.authenticate ?? gatewayAuthenticate;
  const sessions = new McpSessions({ idleMs: deps.idleMs ?? 30 * 60_000, ...(deps.admissions ? { perAgent: deps.admissions.cap } : {}) });
  // A freed slot is a Gatehouse session over: its MCP session goes too (memory of the gateway's, held by nothing).
  const unlistenReleases = deps.admissions?.onReleased((root, sessionIds) => sessions.closeReleased(root, sessionIds));
  const holdWaitMs = deps.holdWaitMs ?? secondsFromEnv('GATEHOUSE_MCP_HOLD_SECONDS', 20) * 1000;
  const sessionOptions = { gatehouse: deps.gatehouse, holdWaitMs, progressEveryMs: deps.progressEveryMs ?? 5_000, ...(deps.admissions ? { admissions: deps.admissions } : {}) };
  app.addHook('onClose', async () => {
    unlistenReleases?.();
    await sessions.closeAll();
    await deps.upstreamTools?.subjects?.close();
  });
  const events = new McpEventBuffer(deps.eventBounds);

  /** A new MCP session, counted against its agent's bound first (429 there, before anything of it listens). */
  function open(caller: McpCaller, reserved: Admission | undefined): McpSessionEntry {
    const session = new AgentSession(caller, sessionOptions, reserved);
    sessions.claim(session);
    const server = createMcpServer(session, deps.tools, deps.upstreamTools);
    // Resumable streams: events get ids, each stream opens with a priming event and a `retry`.
    const eventStore = events.forSession(rootAgentOf(caller.agentId));
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => sessions.add(id, entry),
      eventStore,
      retryInterval: SSE_RETRY_MS,
    });
    const entry: McpSessionEntry = { transport, server, session, lastUsed: Date.now() };
    transport.onclose = () => {
      session.close();
      eventStore.drop();
      sessions.remove(entry);
    };
    return entry;
  }

  async function handle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const caller = await authenticate(request);
    const id = header(request, 'mcp-session-id');
    // The body was read by the gateway (an empty one is none): the SDK must not wait for it again.
    if (request.method === 'POST' && request.body === undefined) {
      await reply.code(400).send({ jsonrpc: '2.0', error: { code: -32700, message: 'parse error: the body is empty, it must be a JSON-RPC message' }, id: null });
      return;
    }
    // Before the SDK sees it: a batch is refused, or each of its messages pays for itself.
    if (request.method === 'POST') {
      const batch = checkBatch(request.body, header(request, 'mcp-protocol-version'), deps.burst);
      if (!batch.ok) {
        await reply.code(400).send(batch.refusal);
        return;
      }
      if (batch.messages > 1) deps.takeRequests?.(caller.agentId, batch.messages - 1);
    }
    let entry: McpSessionEntry;
    if (id !== undefined) {
      const found = sessions.get(id);
      if (!found) throw new Problem('not-found', `no MCP session \`${id}\` (it ended, or the gateway restarted): initialize a new one`);
      if (found.session.caller.agentId !== caller.agentId) throw new Problem('forbidden', `MCP session \`${id}\` belongs to another agent`);
      // A stream's events are replayed only to the credential that opened the MCP session.
      if (header(request, 'last-event-id') !== undefined && !sameCredential(found.session.caller.token, caller.token)) {
        throw new Problem('forbidden', `MCP session \`${id}\` was opened with another credential: its streams resume only with that one`);
      }
      entry = found;
    } else if (request.method === 'POST' && isInitializeRequest(request.body)) {
      // An MCP session takes its slot under the open-session cap now, not when its intent comes:
      // open MCP sessions count like open Gatehouse sessions (429 at the cap). The slot first: at the
      // cap it frees those of sessions found over, and their MCP sessions close.
      const reserved = await deps.admissions?.admit(caller.agentId, randomUUID());
      try {
        // An MCP session can outlive its slot (its Gatehouse session ended on another replica): counted apart too.
        entry = open(caller, reserved);
      } catch (err) {
        if (reserved?.fresh) await deps.admissions?.release(caller.agentId, reserved.sessionId);
        throw err;
      }
      await initialize(entry, request, reply);
      return;
    } else {
      await reply.code(400).send({ jsonrpc: '2.0', error: { code: -32000, message: 'no `mcp-session-id` header: start with an `initialize` request' }, id: null });
      return;
    }
    await forward(entry, request, reply);
    // The client ended the MCP session: end its Gatehouse session too (after every earlier proposal).
    if (request.method === 'DELETE' && reply.raw.statusCode < 300) {
      sessions.endClosed(entry, (err) => app.log.warn({ err }, 'ending the Gatehouse session of a closed MCP session failed'));
    }
  }

  /** Hands the request to the MCP session's transport (the SDK answers it). */
  async function forward(entry: McpSessionEntry, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const intent = header(request, INTENT_HEADER);
    if (intent !== undefined) entry.session.intentFromHeader(intent);
    entry.lastUsed = Date.now();
    reply.hijack();
    await entry.transport.handleRequest(request.raw, reply.raw, request.body);
  }

  /** Connects a new MCP session; one the SDK refused (no session id given out) leaves nothing open: neither its count nor its slot. */
  async function initialize(entry: McpSessionEntry, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    try {
      await entry.server.connect(entry.transport);
      await forward(entry, request, reply);
    } finally {
      if (entry.transport.sessionId === undefined) {
        await entry.transport.close();
        await entry.session.end('MCP initialize refused').catch((err: unknown) => app.log.warn({ err }, 'freeing the slot of a refused MCP initialize failed'));
      }
    }
  }

  app.post(MCP_PATH, handle);
  app.get(MCP_PATH, handle);
  app.delete(MCP_PATH, handle);
  return sessions;
}

function sameCredential(a: string, b: string): boolean {
  const digest = (t: string) => createHash('sha256').update(t).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** A whole number of seconds from the environment, or the default; a bad value is an error. */
function secondsFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 55) throw new Error(`\`${name}\` must be a whole number of seconds from 1 to 55, got \`${text}\``);
  return n;
}
