/**
 * One connection to an upstream MCP server, worker-side: the MCP SDK `Client` over a stdio
 * child process or Streamable HTTP. It lists the server's tools (following `nextCursor`), lists
 * again on `notifications/tools/list_changed`, and reconnects with backoff when the connection
 * closes unasked (a crashed stdio server is started again). Calls made while it is down fail at
 * once with `UpstreamUnavailable`, naming the server. An answer over the size limit
 * (`size-limit.ts`) fails only its own call, as `UpstreamResultTooLarge`. Node-only.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CompleteResultSchema,
  GetPromptResultSchema,
  isJSONRPCNotification,
  LoggingMessageNotificationSchema,
  ProgressNotificationSchema,
  PromptListChangedNotificationSchema,
  ReadResourceResultSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { shownLine } from '../../approvals/shown-text';
import type { PublishedSubjects, UpstreamNote } from '../../audit/upstream-listing';
import { ToolError } from '../tools/errors';
import { isStdio, type NamedUpstream } from './config';
import { countRequests, RequestsInFlight } from './requests-in-flight';
import { firstLine, upstreamCallError } from './call-error';
import { describeBytes, type DroppedMessage } from './size-limit';
import { listSubjects, subjectCapabilities, type SubjectCapabilities } from './subjects';
import { upstreamTransport } from './transport';
import { UNKNOWN_AGENT, WatchedResources } from './watched-resources';

/** Most pages of `tools/list` followed (a server that keeps answering with a cursor is cut off). */
const MAX_PAGES = 100;
const RECONNECT_MIN_MS = 200;
const RECONNECT_MAX_MS = 10_000;
/** Most resources one server watches at once (a gateway asks for what its agents subscribe to, and again while they do). */
const MAX_SUBSCRIPTIONS = 1_000;
/**
 * Most of them watched for one root agent, whatever gateways ask: each gateway bounds an agent's
 * sessions on it alone (`MAX_WATCHED_PER_AGENT`, the same 200), and an agent can reach several.
 */
const MAX_SUBSCRIPTIONS_PER_AGENT = 200;
/** How much of a stdio server's stderr is kept for operators (the worker's log, `lastError`), never for agents. */
const STDERR_KEEP = 2_000;

/**
 * The call whose request is being sent, and then answered: over Streamable HTTP, the messages a
 * server sends on that request's own response stream are handled in it, so they can be told apart;
 * over both transports, each request sent is counted under it (`RequestsInFlight`). Every other
 * request (an estimate, a listing, a subscription) is sent outside any call's.
 */
const callOfStream = new AsyncLocalStorage<string>();

export interface UpstreamConnectionOptions {
  readonly server: NamedUpstream;
  /** Called with the full tool list after every successful listing. */
  readonly onTools: (tools: readonly Tool[]) => void | Promise<void>;
  /** Called with what the server declares and lists besides tools, after every listing of them. */
  readonly onSubjects?: (caps: SubjectCapabilities, subjects: PublishedSubjects) => void | Promise<void>;
  /**
   * Called with each progress or log notification the server sends for a call (keyed by the call);
   * awaited before the call returns. A note goes to the call it was sent for, never to another.
   */
  readonly onNote?: (note: UpstreamNote) => Promise<void>;
  /** Called after every change of `state` (connected, down, closed). */
  readonly onState?: (state: UpstreamState) => void;
  readonly log?: (line: string) => void;
}

export type UpstreamState = 'connecting' | 'up' | 'down' | 'closed';

export class UpstreamConnection {
  readonly name: string;
  #client: Client | undefined;
  #state: UpstreamState = 'connecting';
  #lastError = '';
  /** `#lastError` without the server's stderr: what an agent may be told. */
  #lastCause = '';
  #stderr = '';
  #retryMs = RECONNECT_MIN_MS;
  #timer: NodeJS.Timeout | undefined;
  #closing = false;
  /** Resolves once the first connect attempt has finished (either way). */
  #firstAttempt: Promise<void> | undefined;
  /** Resource URIs gateways asked to watch: subscribed again after every reconnect (bounded, expiring). */
  readonly #watched = new WatchedResources(MAX_SUBSCRIPTIONS, MAX_SUBSCRIPTIONS_PER_AGENT);
  /**
   * Idempotency keys of the calls running now: the call's notes relayed so far, in order, and who
   * is told of each one relayed.
   */
  readonly #running = new Map<string, { relayed: Promise<void>; readonly onRelayed: (() => void) | undefined }>();
  /** Progress tokens of the running calls, to their keys. */
  readonly #tokens = new Map<string, string>();
  /** Connections made so far (1 after the first; restarts add one each). */
  connects = 0;
  /** Marks the error responses this connection puts in place of answers over the size limit. */
  readonly #tooLargeTag = randomUUID();

  constructor(private readonly opts: UpstreamConnectionOptions) {
    this.name = opts.server.name;
  }

  get state(): UpstreamState {
    return this.#state;
  }

  /** The last connection or listing error with the tail of a stdio server's stderr, for operators. */
  get lastError(): string {
    return this.#lastError;
  }

  /** Connects and lists; resolves after the first attempt, connected or not (it keeps retrying). */
  start(): Promise<void> {
    this.#firstAttempt ??= this.#connectOutsideCalls();
    return this.#firstAttempt;
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#state = 'closed';
    if (this.#timer) clearTimeout(this.#timer);
    const c = this.#client;
    this.#client = undefined;
    await c?.close().catch(() => undefined);
  }

  /**
   * Calls a tool of the server. Throws `ToolError` naming the server when it cannot answer. With a
   * `key`, the server's progress and log notifications during the call are relayed (`onNote`), and
   * `onRelayed` is told of each one relayed (not of one whose relay failed).
   */
  async callTool(
    tool: string,
    args: Record<string, unknown>,
    opts: { readonly signal: AbortSignal; readonly timeoutMs: number; readonly key?: string; readonly onRelayed?: () => void },
  ): Promise<CallToolResult> {
    return this.#run(
      `\`${tool}\``,
      opts.key,
      (client, meta) => client.callTool({ name: tool, arguments: args, ...meta }, undefined, { signal: opts.signal, timeout: opts.timeoutMs }) as Promise<CallToolResult>,
      opts.onRelayed,
    );
  }

  /**
   * Watches a resource a gateway asked for (again: a renewal) for root agent `agent`: subscribes to
   * it where the server supports it (a server that does not is never asked), and unsubscribes from
   * those no gateway asked for within the time to live. Its `notifications/resources/updated` are
   * relayed under the key `updated:<server>`. A request naming no agent (an older gateway) counts
   * under one shared agent (`UNKNOWN_AGENT`).
   */
  async subscribe(uri: string, agent: string = UNKNOWN_AGENT): Promise<void> {
    const { outcome, dropped } = this.#watched.ask(uri, agent, Date.now());
    // Resource URIs and agent ids are agents' (a gateway passes on what an agent subscribed to): logged as one line each.
    if (outcome === 'full') this.opts.log?.(`upstream \`${this.name}\`: already watching ${MAX_SUBSCRIPTIONS} resources: \`${shownLine(uri)}\` is not watched`);
    if (outcome === 'agent-full') {
      const whose = agent === UNKNOWN_AGENT ? 'gateways that name no agent' : `agent \`${shownLine(agent)}\``;
      this.opts.log?.(`upstream \`${this.name}\`: already watching ${MAX_SUBSCRIPTIONS_PER_AGENT} resources for ${whose}: \`${shownLine(uri)}\` is not watched`);
    }
    const client = this.#client;
    if (!client || this.#state !== 'up' || client.getServerCapabilities()?.resources?.subscribe !== true) return;
    // The connection's own requests, none of a call's.
    await callOfStream.exit(async () => {
      for (const gone of dropped) await client.unsubscribeResource({ uri: gone }).catch((err: unknown) => this.opts.log?.(`upstream \`${this.name}\`: unsubscribing from \`${shownLine(gone)}\` failed: ${shownLine(String(err))}`));
      if (outcome === 'new') await client.subscribeResource({ uri });
    });
  }

  /** Sends a `resources/read`, `prompts/get` or `completion/complete` request; its result as the server gave it. */
  async request(
    method: 'resources/read' | 'prompts/get' | 'completion/complete',
    params: Record<string, unknown>,
    opts: { readonly signal: AbortSignal; readonly timeoutMs: number; readonly key: string; readonly onRelayed?: () => void },
  ): Promise<Record<string, unknown>> {
    const schema = method === 'resources/read' ? ReadResourceResultSchema : method === 'prompts/get' ? GetPromptResultSchema : CompleteResultSchema;
    return this.#run(
      `\`${method}\``,
      opts.key,
      (client, meta) => client.request({ method, params: { ...params, ...meta } } as never, schema, { signal: opts.signal, timeout: opts.timeoutMs }) as Promise<Record<string, unknown>>,
      opts.onRelayed,
    );
  }

  /**
   * Runs one request. With a `key`, it carries a progress token of its own: the server's progress
   * notifications are relayed by this connection's handler, not the SDK's per-request one, which is
   * dropped when the response is read and would lose a last notification sent just before it.
   */
  async #run<T>(what: string, key: string | undefined, fn: (client: Client, meta: { _meta?: { progressToken: string } }) => Promise<T>, onRelayed?: () => void): Promise<T> {
    const client = this.#client;
    if (!client || this.#state !== 'up') {
      throw new ToolError('UpstreamUnavailable', `upstream server \`${this.name}\` is not connected${this.#lastCause ? `: ${this.#lastCause}` : ''}`, { retryable: true });
    }
    const token = key !== undefined && this.opts.onNote ? `gatehouse:${key}` : undefined;
    if (key !== undefined) this.#running.set(key, { relayed: Promise.resolve(), onRelayed });
    if (token !== undefined) this.#tokens.set(token, key!);
    try {
      const meta = token !== undefined ? { _meta: { progressToken: token } } : {};
      // Unkeyed (an estimate): outside every call's context, so it is counted as no call's request.
      return await (key !== undefined ? callOfStream.run(key, () => fn(client, meta)) : callOfStream.exit(() => fn(client, meta)));
    } catch (err) {
      throw this.#callError(what, err);
    } finally {
      // The call's notes are relayed, in order, before its result: none arrives after the agent has the answer.
      if (token !== undefined) this.#tokens.delete(token);
      if (key !== undefined) {
        await this.#running.get(key)?.relayed;
        this.#running.delete(key);
      }
    }
  }

  /** Relays one note after the call's earlier ones (a failed relay is dropped: a note never fails a call). */
  #relay(note: UpstreamNote): void {
    const onNote = this.opts.onNote;
    const call = this.#running.get(note.key);
    if (!onNote || call === undefined) return;
    call.relayed = call.relayed.then(() => onNote(note)).then(() => call.onRelayed?.(), () => undefined);
  }

  /**
   * The call a log message belongs to, or none, told as the message arrives (before any answer
   * read after it ends a request). Many sessions' calls share this connection, and a log message
   * carries no request id, so a message about one call must not reach another (an agent would read
   * what another session's call logged). Over Streamable HTTP it is the call on whose response
   * stream it came; one on the server's own stream belongs to no call. A stdio server has one
   * channel for all: its message is the call's only while that call's request is the only request
   * in flight, any other counted too — an estimate, a listing, a subscription, whoever made it (a
   * message sent for a request comes before that request's answer, so while it is in flight).
   */
  #callOfLog(inFlight: RequestsInFlight): string | undefined {
    if (!isStdio(this.opts.server)) return callOfStream.getStore();
    const key = inFlight.soleCall(Date.now());
    return key !== undefined && this.#running.has(key) ? key : undefined;
  }

  /**
   * Counts the requests the client sends on `transport` and relays the server's log messages as
   * they arrive, before the SDK handles the message (an answer in it could end a request first).
   */
  #watchRequests(transport: Transport): void {
    const inFlight = new RequestsInFlight(this.opts.server.timeoutMs);
    countRequests(transport, inFlight, () => callOfStream.getStore(), (message) => {
      if (!isJSONRPCNotification(message) || message.method !== 'notifications/message') return;
      const n = LoggingMessageNotificationSchema.safeParse(message);
      if (!n.success) return;
      const key = this.#callOfLog(inFlight);
      if (key !== undefined) this.#relay({ key, method: 'notifications/message', params: { ...n.data.params, logger: n.data.params.logger ?? this.name } });
    });
  }

  /** `what` names the call in messages: a tool in backticks, or a method. */
  #callError(what: string, err: unknown): ToolError {
    const { error, log } = upstreamCallError(this.name, what, err, { up: this.#state === 'up', tooLargeTag: this.#tooLargeTag, stderrTail: this.#stderrTail() });
    if (log) this.opts.log?.(log);
    return error;
  }

  /**
   * The last lines a stdio server wrote to stderr, as ` (stderr: …)`, or nothing. Each is shown as
   * one line: what the server echoes there (an agent's argument) must not drive the operator's
   * terminal (OSC 52, a carriage return over the line) nor spell a line of the log of its own.
   */
  #stderrTail(): string {
    const text = this.#stderr.trim();
    return text ? ` (stderr: ${text.split('\n').slice(-3).map(shownLine).join(' | ')})` : '';
  }

  /** Connects outside any call's context: the server's own stream must not be taken for a call's. */
  #connectOutsideCalls(): Promise<void> {
    return callOfStream.exit(() => this.#connect());
  }

  async #connect(): Promise<void> {
    if (this.#closing) return;
    // A server that went down stays `down` while it is retried, until it is up again.
    if (this.#state !== 'down') this.#state = 'connecting';
    const client = new Client({ name: 'gatehouse', version: '0.1.0' }, { capabilities: {} });
    let transport: Transport;
    try {
      this.#stderr = '';
      transport = upstreamTransport(this.opts.server, {
        tag: this.#tooLargeTag,
        onDropped: (d) => this.#dropped(d),
        onStderr: (chunk) => {
          this.#stderr = (this.#stderr + chunk).slice(-STDERR_KEEP);
        },
      });
    } catch (err) {
      return this.#down(err);
    }
    this.#watchRequests(transport);
    client.onclose = () => {
      if (this.#client !== client || this.#closing) return;
      this.#client = undefined;
      this.#down(new Error('the connection closed'));
    };
    // The server's words (an unreadable line it wrote, an error it answered) are logged as one line each.
    client.onerror = (err) => this.opts.log?.(`upstream \`${this.name}\`: ${shownLine(err.message)}`);
    // A notification that came on a call's response stream is handled in that call's context: the listings it asks for are no call's requests.
    client.setNotificationHandler(ToolListChangedNotificationSchema, () =>
      callOfStream.exit(() => this.#list(client).catch((err: unknown) => this.opts.log?.(`upstream \`${this.name}\`: listing tools after list_changed failed: ${shownLine(String(err))}`))),
    );
    const relist = async () => {
      if (this.opts.onSubjects) await this.opts.onSubjects(subjectCapabilities(client), await listSubjects(client));
    };
    const relistLogged = () => callOfStream.exit(() => relist()).catch((err: unknown) => this.opts.log?.(`upstream \`${this.name}\`: listing resources and prompts after list_changed failed: ${shownLine(String(err))}`));
    client.setNotificationHandler(ResourceListChangedNotificationSchema, relistLogged);
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void this.opts.onNote?.({ key: `updated:${this.name}`, method: 'notifications/resources/updated', params: { uri: n.params.uri } }).catch(() => undefined));
    client.setNotificationHandler(PromptListChangedNotificationSchema, relistLogged);
    client.setNotificationHandler(ProgressNotificationSchema, (n) => {
      const { progressToken, ...rest } = n.params;
      const key = this.#tokens.get(String(progressToken));
      if (key !== undefined) this.#relay({ key, method: 'notifications/progress', params: { ...rest } });
    });
    // Log messages are relayed as they arrive (`#watchRequests`), not here: by the time a handler ran, an answer read after the message could have ended a request.
    try {
      await client.connect(transport);
      // Closed while connecting (an agent's idle connection dropped, the worker stopping): nothing else holds this client.
      if (this.#closing) {
        await client.close().catch(() => undefined);
        return;
      }
      this.#client = client;
      await this.#list(client);
      // Its tools serve even when its resources or prompts cannot be listed.
      await relist().catch((err: unknown) => this.opts.log?.(`upstream \`${this.name}\`: listing resources and prompts failed: ${shownLine(err instanceof Error ? err.message : String(err))}`));
      if (client.getServerCapabilities()?.resources?.subscribe === true) {
        for (const uri of this.#watched.uris) await client.subscribeResource({ uri }).catch((err: unknown) => this.opts.log?.(`upstream \`${this.name}\`: subscribing to \`${shownLine(uri)}\` again failed: ${shownLine(String(err))}`));
      }
      if (this.#closing) return; // close() closed the client meanwhile
      this.#state = 'up';
      this.#lastError = '';
      this.#lastCause = '';
      this.#retryMs = RECONNECT_MIN_MS;
      this.connects += 1;
      this.opts.log?.(`upstream \`${this.name}\`: connected`);
      this.opts.onState?.('up');
    } catch (err) {
      if (this.#client === client) this.#client = undefined;
      await client.close().catch(() => undefined);
      this.#down(err);
    }
  }

  #dropped(d: DroppedMessage): void {
    const size = d.bytes !== undefined ? ` of ${d.bytes} bytes` : '';
    const to = d.id !== undefined ? `: request ${shownLine(JSON.stringify(d.id))} fails with \`UpstreamResultTooLarge\`` : ': it answers no request that could be told (a call it answered times out)';
    this.opts.log?.(`upstream \`${this.name}\`: dropped a message${size} over the size limit of ${describeBytes(d.limitBytes)}${to}`);
  }

  async #list(client: Client): Promise<void> {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const r = await client.listTools(cursor === undefined ? {} : { cursor });
      tools.push(...r.tools);
      cursor = r.nextCursor;
      if (!cursor) break;
    }
    await this.opts.onTools(tools);
  }

  #down(err: unknown): void {
    if (this.#closing) return;
    const message = err instanceof Error ? err.message : String(err);
    this.#lastCause = shownLine(firstLine(message));
    this.#lastError = `${this.#lastCause}${this.#stderrTail()}`;
    this.#state = 'down';
    this.opts.onState?.('down');
    this.opts.log?.(`upstream \`${this.name}\`: down (${this.#lastError}); reconnecting in ${this.#retryMs} ms`);
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#connectOutsideCalls(), this.#retryMs);
    this.#timer.unref();
    this.#retryMs = Math.min(RECONNECT_MAX_MS, this.#retryMs * 2);
  }
}
