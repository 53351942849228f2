/**
 * The SDK `Server` of one MCP session: `tools/list` and `tools/call`, wired to its
 * {@link AgentSession}. Catalog calls become proposals; Gatehouse's two tools declare the
 * intent and wait for held calls.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AgentSession, Progress } from './agent-session';
import { refusal } from './outcome';
import { registerSubjectHandlers } from './subject-handlers';
import type { UpstreamToolSource } from './upstream-tools';
import { AWAIT_APPROVAL_TOOL, DECLARE_INTENT_TOOL, DEFAULT_AWAIT_SECONDS, MAX_AWAIT_SECONDS, listTools, type McpToolInfo } from './tools';

/** `_meta` key under which a client may send the reasoning for a call (recorded with the proposal). */
export const REASONING_META_KEY = 'gatehouse/reasoning';

export const SERVER_INFO = { name: 'gatehouse', version: '0.1.0' } as const;

const INSTRUCTIONS = `Every tool here is gated by Gatehouse. First call \`${DECLARE_INTENT_TOOL}\` with what you are going to do. A call then runs, is refused by policy (a tool error naming the rules), or is held for a person's approval: then call \`${AWAIT_APPROVAL_TOOL}\` with the approval id to wait for its outcome.`;

export function createMcpServer(session: AgentSession, tools: readonly McpToolInfo[], upstreamTools?: UpstreamToolSource): Server {
  // Upstream tools appear once the session (and so its policy) exists: the list then changes.
  const changes = upstreamTools !== undefined;
  const server = new Server(SERVER_INFO, {
    capabilities: { tools: { listChanged: changes }, logging: {}, resources: { subscribe: true, listChanged: changes }, prompts: { listChanged: changes }, ...(changes ? { completions: {} } : {}) },
    instructions: INSTRUCTIONS,
  });
  // Upstreams' resources, prompts and completions, gated like tools; `logging/setLevel` (the level of relayed upstream logs).
  const subjects = registerSubjectHandlers(server, session, upstreamTools?.subjects);
  // A server's lists changed (the worker listed it again): every list may have changed for this session.
  const unlisten = upstreamTools?.subjects?.onListsChanged(() => {
    for (const send of [() => server.sendToolListChanged(), () => server.sendResourceListChanged(), () => server.sendPromptListChanged()]) void send().catch(() => undefined);
  });
  const closed = server.onclose;
  server.onclose = () => {
    unlisten?.();
    closed?.();
  };
  const catalogNames = new Set(tools.map((t) => t.name));
  const listed = listTools(tools);
  // Upstream MCP servers' tools as the worker last published them, those the session's policy classifies (after the catalog's own).
  server.setRequestHandler(ListToolsRequestSchema, async () => {
    const listing = upstreamTools ? await session.listingSession() : undefined;
    return { tools: upstreamTools && listing ? [...listed, ...(await upstreamTools(listing))] : listed };
  });
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name } = request.params;
    const args = (request.params.arguments ?? {}) as Record<string, unknown>;
    if (name === DECLARE_INTENT_TOOL) {
      const declared = await session.declareIntent(args);
      if (upstreamTools && !declared.isError) {
        for (const method of ['notifications/tools/list_changed', 'notifications/resources/list_changed', 'notifications/prompts/list_changed'] as const) {
          await extra.sendNotification({ method }).catch(() => undefined);
        }
      }
      return declared;
    }
    if (name === AWAIT_APPROVAL_TOOL) {
      const approvalId = args.approvalId;
      const timeout = args.timeoutSeconds ?? DEFAULT_AWAIT_SECONDS;
      if (typeof approvalId !== 'string' || approvalId === '') return refusal('arguments.invalid', '`approvalId` must be the id a held call returned');
      if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > MAX_AWAIT_SECONDS) {
        return refusal('arguments.invalid', `\`timeoutSeconds\` must be a whole number from 1 to ${MAX_AWAIT_SECONDS}`);
      }
      const token = request.params._meta?.progressToken;
      const progress: Progress | undefined =
        token === undefined
          ? undefined
          : (elapsed, message) => {
              void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: elapsed, message } }).catch(() => undefined);
            };
      return session.awaitApproval(approvalId, timeout, progress, extra.signal);
    }
    const meta = request.params._meta as Record<string, unknown> | undefined;
    const reasoning = typeof meta?.[REASONING_META_KEY] === 'string' ? (meta[REASONING_META_KEY] as string) : '';
    // An upstream tool's progress and log notifications during the call reach this request.
    const notes = upstreamTools && !catalogNames.has(name) ? subjects.notes(extra, request.params._meta?.progressToken) : undefined;
    return session.call(name, args, reasoning, notes);
  });
  return server;
}
