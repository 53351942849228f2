/**
 * `resources/*`, `prompts/*` and `completion/complete` of one MCP session, over the upstreams'
 * published lists (`./upstream-subjects.ts`). A list shows what the session's policy classifies; a
 * read, a prompt or a completion is a proposal of the server's `<server>.resources/read`,
 * `prompts/get` or `completion/complete`, decided by the session's workflow and audited like a tool
 * call, so nothing is read upstream unless the policy allows it. A subscription to a classified
 * resource is forwarded to the worker, which watches it upstream. Refusals are JSON-RPC errors:
 * `-32002` a resource the session may not read (as if it did not exist), `-32602` an unknown
 * prompt, `-32003` another policy denial, `-32004` a read held for a person's approval.
 */
import { z } from 'zod';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CompleteRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type LoggingLevel,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { AgentSession, CallNotes, Proposed } from './agent-session';
import { AWAIT_APPROVAL_TOOL } from './tools';
import { MAX_WATCHED_PER_AGENT, NOTES_WAIT_MS, type NotesListener, type UpstreamSubjects, type Watch } from './upstream-subjects';
import { within } from './wait';

/** JSON-RPC error codes of these methods (MCP's own `-32002` for a resource not found). */
export const RESOURCE_NOT_FOUND = -32002;
export const POLICY_DENIED = -32003;
export const HELD_FOR_APPROVAL = -32004;

/** Most resources one MCP session watches. */
const MAX_SUBSCRIPTIONS = 100;

const LEVELS: readonly LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/** What the handlers share: the session's minimum log level (`logging/setLevel`). */
export interface SubjectHandlers {
  /** The notes sink of one request: upstream progress (under the request's token) and log messages (at or above the level). */
  notes(extra: { sendNotification: (n: never) => Promise<void> }, progressToken: string | number | undefined): CallNotes;
}

export function registerSubjectHandlers(server: Server, session: AgentSession, subjects: UpstreamSubjects | undefined): SubjectHandlers {
  let level: LoggingLevel | undefined;
  server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    level = request.params.level;
    return {};
  });
  const handlers: SubjectHandlers = {
    notes(extra, progressToken) {
      const sending = new Set<Promise<void>>();
      // Notes that reached this call, sent on or not: a counted flush waits for as many as were relayed.
      let arrived = 0;
      let awaited: { readonly count: number; readonly reached: () => void } | undefined;
      let listener: NotesListener | undefined;
      return {
        listen: (key, deliver) => {
          listener = subjects?.listenNotes(key, deliver);
          return () => listener?.stop();
        },
        deliver: (method, params) => {
          arrived += 1;
          if (awaited && arrived >= awaited.count) awaited.reached();
          if (method === 'notifications/progress' && progressToken === undefined) return;
          if (method === 'notifications/message' && level !== undefined && LEVELS.indexOf(params.level as LoggingLevel) < LEVELS.indexOf(level)) return;
          const out = method === 'notifications/progress' ? { ...params, progressToken } : params;
          const sent = extra.sendNotification({ method, params: out } as never).catch(() => undefined);
          sending.add(sent);
          void sent.finally(() => sending.delete(sent));
        },
        flush: async (relayed) => {
          if (relayed === undefined) await subjects?.barrier();
          // Notes relayed while the LISTEN was down went nowhere: none is waited for then.
          else if (arrived < relayed && listener?.unbroken() === true) {
            await within(new Promise<void>((reached) => (awaited = { count: relayed, reached })), NOTES_WAIT_MS);
            awaited = undefined;
          }
          await Promise.all(sending);
        },
      };
    },
  };
  if (!subjects) {
    // No upstreams: nothing to list, and nothing a subscription could ever name.
    server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: [] }));
    server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: [] }));
    server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: [] }));
    // Accepted, as the spec lets a server accept any URI: none can change through Gatehouse, so none is notified.
    server.setRequestHandler(SubscribeRequestSchema, async () => ({}));
    server.setRequestHandler(UnsubscribeRequestSchema, async () => ({}));
    return handlers;
  }

  const listing = () => session.listingSession();
  server.setRequestHandler(ListResourcesRequestSchema, async () => {
    const s = await listing();
    return { resources: s ? await subjects.resources(s) : [] };
  });
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => {
    const s = await listing();
    return { resourceTemplates: s ? await subjects.templates(s) : [] };
  });
  server.setRequestHandler(ListPromptsRequestSchema, async () => {
    const s = await listing();
    return { prompts: s ? await subjects.prompts(s) : [] };
  });
  const serverOf = async (uri: string): Promise<string> => {
    const s = await listing();
    if (!s) throw new McpError(ErrorCode.InvalidRequest, `declare your intent first (\`gatehouse_declare_intent\`): no resource is read before`);
    const found = await subjects.resourceServer(s, uri);
    if (found === undefined) notFound(uri, 'no upstream MCP server the session may read serves it');
    return found;
  };

  onRequest(server, ReadResourceRequestSchema, async (request, extra) => {
    const { uri } = request.params;
    const upstream = await serverOf(uri);
    const p = await session.propose(`${upstream}.resources/read`, { uri }, '', handlers.notes(extra, request.params._meta?.progressToken));
    return answer(p, { uri }, (r) => (Array.isArray((r as { contents?: unknown }).contents) ? (r as { contents: [] }) : undefined));
  });

  onRequest(server, GetPromptRequestSchema, async (request, extra) => {
    const { name } = request.params;
    const dot = name.indexOf('.');
    if (dot < 1) throw new McpError(ErrorCode.InvalidParams, `unknown prompt \`${name}\`: prompts are named \`<server>.<prompt>\` as \`prompts/list\` shows them`);
    const args = { name: name.slice(dot + 1), ...(request.params.arguments ? { arguments: request.params.arguments } : {}) };
    const p = await session.propose(`${name.slice(0, dot)}.prompts/get`, args, '', handlers.notes(extra, request.params._meta?.progressToken));
    return answer(p, { name }, (r) => (Array.isArray((r as { messages?: unknown }).messages) ? (r as { messages: [] }) : undefined));
  });

  onRequest(server, CompleteRequestSchema, async (request, extra) => {
    const { ref, argument, context } = request.params;
    let upstream: string;
    let upstreamRef: Record<string, unknown>;
    if (ref.type === 'ref/prompt') {
      const dot = ref.name.indexOf('.');
      if (dot < 1) throw new McpError(ErrorCode.InvalidParams, `unknown prompt \`${ref.name}\`: prompts are named \`<server>.<prompt>\``);
      upstream = ref.name.slice(0, dot);
      upstreamRef = { type: 'ref/prompt', name: ref.name.slice(dot + 1) };
    } else {
      upstream = await serverOf(ref.uri);
      upstreamRef = { type: 'ref/resource', uri: ref.uri };
    }
    const args = { ref: upstreamRef, argument, ...(context?.arguments ? { context: { arguments: context.arguments } } : {}) };
    const p = await session.propose(`${upstream}.completion/complete`, args, '', handlers.notes(extra, undefined));
    // A server that offers no completions has no such tool: no suggestions, which is what it has.
    if ('outcome' in p && p.outcome.status === 'denied' && p.outcome.decision.reasons.some((r) => r.rule === 'tool.unknown')) return { completion: { values: [] } };
    return answer(p, { ref }, (r) => ((r as { completion?: { values?: unknown } }).completion?.values !== undefined ? (r as { completion: { values: string[] } }) : undefined));
  });

  // A subscription names a resource the session's policy classifies (else -32002, as for a read): the
  // worker watches it upstream where the server supports it, and its updates reach this session.
  const subscribed = new Map<string, Watch>();
  const unlisten = subjects.onResourceUpdated((from, uri) => {
    if (subscribed.get(uri)?.server === from) void server.sendResourceUpdated({ uri }).catch(() => undefined);
  });
  let ended = false;
  const closed = server.onclose;
  server.onclose = () => {
    ended = true;
    unlisten();
    for (const watch of subscribed.values()) watch.stop();
    subscribed.clear();
    closed?.();
  };
  onRequest(server, SubscribeRequestSchema, async (request) => {
    const { uri } = request.params;
    const s = await listing();
    if (!s) throw new McpError(ErrorCode.InvalidRequest, 'declare your intent first (`gatehouse_declare_intent`): no resource is watched before');
    if (subscribed.has(uri)) return {};
    if (subscribed.size >= MAX_SUBSCRIPTIONS) throw new McpError(ErrorCode.InvalidRequest, `this session already watches ${MAX_SUBSCRIPTIONS} resources: unsubscribe from one first`);
    const watch = await subjects.subscribe(s, uri, session.caller.agentId);
    if (watch === undefined) notFound(uri, 'the session\'s policy does not classify it');
    if (watch === 'full') throw new McpError(ErrorCode.InvalidRequest, `this agent's sessions already watch ${MAX_WATCHED_PER_AGENT} resources on this gateway: unsubscribe from one first`);
    // A request for the same resource that finished first, or a session closed meanwhile: this one is not kept.
    if (ended || subscribed.has(uri)) watch.stop();
    else subscribed.set(uri, watch);
    return {};
  });
  onRequest(server, UnsubscribeRequestSchema, async (request) => {
    subscribed.get(request.params.uri)?.stop();
    subscribed.delete(request.params.uri);
    return {};
  });
  return handlers;
}

/** The result of an executed read, or the JSON-RPC error that says why there is none. */
function answer<T>(p: Proposed, subject: Record<string, unknown>, shape: (result: unknown) => T | undefined): T {
  if ('refused' in p) {
    const text = p.refused.content.map((c) => (c.type === 'text' ? c.text : '')).join(' ');
    throw new McpError(ErrorCode.InvalidRequest, text, { ...subject, ...(p.refused.structuredContent ?? {}) });
  }
  if ('held' in p) {
    const h = p.held;
    throw new McpError(HELD_FOR_APPROVAL, `held for approval \`${h.approvalId}\`: it runs only if ${h.approversRequired} of ${h.groups.join(', ')} approve before ${h.deadline}; call \`${AWAIT_APPROVAL_TOOL}\` with {"approvalId": "${h.approvalId}"} for its result`, {
      ...subject,
      status: 'held',
      approvalId: h.approvalId,
      tool: h.tool,
      deadline: h.deadline,
    });
  }
  const r = p.outcome;
  const data = { ...subject, status: r.status, reasons: r.decision.reasons.map((x) => ({ rule: x.rule, message: x.message })), ...(r.approvalId ? { approvalId: r.approvalId } : {}) };
  const why = r.decision.reasons.map((x) => `${x.rule}: ${x.message}`).join('; ');
  if (r.status === 'executed') {
    const shaped = shape(r.result);
    if (shaped === undefined) throw new McpError(ErrorCode.InternalError, 'the upstream server answered with a result of the wrong shape', data);
    return shaped;
  }
  if (r.status === 'failed') throw new McpError(ErrorCode.InternalError, `the upstream server could not answer: ${r.error ? `${r.error.type}: ${r.error.message}` : 'no error detail'}`, { ...data, ...(r.error ? { error: r.error } : {}) });
  const rules = new Set(r.decision.reasons.map((x) => x.rule));
  if (r.status === 'denied' && rules.has('resource.unclassified')) throw new McpError(RESOURCE_NOT_FOUND, `resource not found: ${why}`, data);
  if (r.status === 'denied' && (rules.has('prompt.unclassified') || rules.has('tool.unknown'))) throw new McpError(ErrorCode.InvalidParams, `unknown prompt or resource: ${why}`, data);
  if (r.status === 'denied' && rules.has('tool.args')) throw new McpError(ErrorCode.InvalidParams, `invalid params: ${why}`, data);
  throw new McpError(POLICY_DENIED, r.status === 'expired' ? `nobody approved the read in time: ${why}` : `denied by gatehouse policy: ${why}`, data);
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;
interface Parses<R> {
  safeParse(v: unknown): { success: true; data: R } | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

/**
 * A request handler whose bad params are answered `-32602` (invalid params), as JSON-RPC has it:
 * the SDK's own check throws a plain error, which it answers `-32603` (internal error).
 */
function onRequest<R, T>(server: Server, schema: Parses<R> & { readonly shape: { readonly method: { readonly value: string } } }, handler: (request: R, extra: Extra) => Promise<T>): void {
  const method = schema.shape.method.value;
  const loose = z.object({ method: z.literal(method) }).passthrough();
  const set = server.setRequestHandler as unknown as (schema: unknown, handler: (request: unknown, extra: Extra) => Promise<unknown>) => void;
  set.call(server, loose, async (raw, extra) => {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.filter((p) => p !== 'params').join('.') || 'params'}: ${i.message.toLowerCase()}`).join('; ');
      throw new McpError(ErrorCode.InvalidParams, `invalid params of \`${method}\`: ${issues}`);
    }
    return handler(parsed.data, extra);
  });
}

function notFound(uri: string, why: string): never {
  throw new McpError(RESOURCE_NOT_FOUND, `resource \`${uri}\` not found: ${why}`, { uri });
}
