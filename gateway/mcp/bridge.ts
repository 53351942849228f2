/**
 * The stdio bridge behind `gatehouse mcp`: an MCP server on stdin/stdout (what a desktop client
 * launches) that forwards `tools/list` and `tools/call` to the gateway's `/mcp` with the SDK's
 * Streamable HTTP client, the agent credential as bearer — and resources, prompts, completions and
 * `logging/setLevel` where the gateway offers them. Progress notifications, log messages, list
 * changes and cancellations pass through; closing stdin ends the MCP session (and its Gatehouse session).
 */
import type { Readable, Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  CallToolRequestSchema,
  CallToolResultSchema,
  CompleteRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  LoggingMessageNotificationSchema,
  PromptListChangedNotificationSchema,
  ReadResourceRequestSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  ToolListChangedNotificationSchema,
  UnsubscribeRequestSchema,
  type ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import { SERVER_INFO } from './mcp-server';
import { MAX_AWAIT_SECONDS } from './tools';

export interface BridgeOptions {
  /** The gateway's MCP endpoint, `http://host:port/mcp`. */
  readonly url: URL;
  readonly token: string;
  /** Sent as `X-Gatehouse-Intent` when set. */
  readonly intent?: string;
  readonly stdin?: Readable;
  readonly stdout?: Writable;
  /** Where problems are reported (never stdout: that is the protocol). @default stderr */
  readonly log?: (line: string) => void;
}

/** The gateway could not be reached or refused the credential. */
export class BridgeError extends Error {
  readonly type = 'BridgeError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BridgeError';
  }
}

/** `fetch` that refuses every redirect (`redirect: 'error'`), whatever the caller asked. */
const unredirected = (url: string | URL, init?: RequestInit): Promise<Response> => fetch(url, { ...init, redirect: 'error' });

/** Longest a forwarded call may take: the longest approval wait plus a margin. */
const CALL_TIMEOUT_MS = (MAX_AWAIT_SECONDS + 60) * 1000;

/** Connects to the gateway, then serves stdio; resolves once serving, with a promise of the end. */
export async function startBridge(o: BridgeOptions): Promise<{ readonly closed: Promise<void> }> {
  const log = o.log ?? ((line: string) => process.stderr.write(`gatehouse mcp: ${line}\n`));
  const headers: Record<string, string> = { authorization: `Bearer ${o.token}` };
  if (o.intent) headers['x-gatehouse-intent'] = o.intent;
  // The gateway never redirects: none is followed, not even within its origin (a redirect would carry
  // the credential and the call to wherever it points). Set on `fetch`, not `requestInit`: the SDK's
  // GET stream does not take `requestInit`, and asks for `redirect: 'manual'` to follow within the origin.
  const upstream = new StreamableHTTPClientTransport(o.url, { requestInit: { headers }, fetch: unredirected });
  const client = new Client({ name: 'gatehouse-mcp-bridge', version: SERVER_INFO.version });
  try {
    await client.connect(upstream);
  } catch (err) {
    const detail = err instanceof Error ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}` : String(err);
    const hint = /\b401\b|unauthori[sz]ed/i.test(detail) ? ' (the gateway refused the credential: check `GATEHOUSE_AGENT_TOKEN`)' : '';
    throw new BridgeError(`cannot open an MCP session at ${o.url.href}: ${detail}${hint}`, { cause: err });
  }

  // What the gateway offers, offered again; its list changes are passed on (the tool list changes once the intent is declared).
  const offered: ServerCapabilities = client.getServerCapabilities() ?? {};
  const capabilities: ServerCapabilities = { ...offered, tools: { ...offered.tools, listChanged: true } };
  const server = new Server({ ...SERVER_INFO }, { capabilities, ...(client.getInstructions() ? { instructions: client.getInstructions() } : {}) });
  server.setRequestHandler(ListToolsRequestSchema, (request, extra) => client.listTools(request.params, { signal: extra.signal }));
  const opts = (extra: { signal: AbortSignal }) => ({ signal: extra.signal, timeout: CALL_TIMEOUT_MS });
  if (offered.resources) {
    server.setRequestHandler(ListResourcesRequestSchema, (r, extra) => client.listResources(r.params, opts(extra)));
    server.setRequestHandler(ListResourceTemplatesRequestSchema, (r, extra) => client.listResourceTemplates(r.params, opts(extra)));
    server.setRequestHandler(ReadResourceRequestSchema, (r, extra) => client.readResource(r.params, opts(extra)));
    server.setRequestHandler(SubscribeRequestSchema, (r, extra) => client.subscribeResource(r.params, opts(extra)));
    server.setRequestHandler(UnsubscribeRequestSchema, (r, extra) => client.unsubscribeResource(r.params, opts(extra)));
  }
  if (offered.prompts) {
    server.setRequestHandler(ListPromptsRequestSchema, (r, extra) => client.listPrompts(r.params, opts(extra)));
    server.setRequestHandler(GetPromptRequestSchema, (r, extra) => client.getPrompt(r.params, opts(extra)));
  }
  if (offered.completions) server.setRequestHandler(CompleteRequestSchema, (r, extra) => client.complete(r.params, opts(extra)));
  if (offered.logging) server.setRequestHandler(SetLevelRequestSchema, (r, extra) => client.setLoggingLevel(r.params.level, opts(extra)));
  // Notifications from the gateway, passed on as they came.
  for (const schema of [ToolListChangedNotificationSchema, ResourceListChangedNotificationSchema, PromptListChangedNotificationSchema, ResourceUpdatedNotificationSchema, LoggingMessageNotificationSchema]) {
    client.setNotificationHandler(schema, (n: { method: string; params?: Record<string, unknown> }) => void server.notification(n as never).catch(() => undefined));
  }
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { _meta, ...params } = request.params;
    const progressToken = _meta?.progressToken;
    const { progressToken: _ignored, ...meta } = _meta ?? {};
    return client.callTool({ ...params, ...(Object.keys(meta).length > 0 ? { _meta: meta } : {}) }, CallToolResultSchema, {
      signal: extra.signal,
      timeout: CALL_TIMEOUT_MS,
      ...(progressToken !== undefined
        ? {
            onprogress: (p) => void extra.sendNotification({ method: 'notifications/progress', params: { ...p, progressToken } }).catch(() => undefined),
          }
        : {}),
    });
  });
  upstream.onerror = (err) => log(`gateway: ${err.message}`);

  const closed = new Promise<void>((resolve) => {
    server.onclose = () => {
      // The desktop client went away: end the MCP session, which ends its Gatehouse session.
      void upstream
        .terminateSession()
        .catch((err: unknown) => log(`closing the MCP session: ${err instanceof Error ? err.message : String(err)}`))
        .finally(() => void client.close().finally(resolve));
    };
  });
  const stdin = o.stdin ?? process.stdin;
  await server.connect(new StdioServerTransport(stdin, o.stdout));
  // The SDK's stdio transport does not watch for the end of input: a desktop client closing it means quit.
  stdin.once('end', () => void server.close());
  return { closed };
}
