/**
 * An upstream MCP server's resources, resource templates and prompts, worker-side: listed (when
 * the server declares the capability, following `nextCursor`) and published for the gateway, and
 * read through three catalog tools of the server — `<server>.resources/read`, `<server>.prompts/get`,
 * `<server>.completion/complete` — so a read is a proposal like any call: decided in the session's
 * workflow by its policy (`upstreamResources`, `upstreamPrompts`), audited, then run here. The
 * gateway never connects to an upstream. Node-only.
 */
import { z } from 'zod';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { PublishedSubjects } from '../../audit/upstream-listing';
import { defineTool, type AnyToolDefinition, type ToolContext } from '../tools/define';
import type { NamedUpstream } from './config';

/** Most pages of one list followed. */
const MAX_PAGES = 100;

/** What a server offers besides tools, from its declared capabilities. */
export interface SubjectCapabilities {
  readonly resources: boolean;
  readonly prompts: boolean;
  readonly completions: boolean;
  readonly subscribe: boolean;
}

export function subjectCapabilities(client: Client): SubjectCapabilities {
  const caps = client.getServerCapabilities() ?? {};
  return { resources: caps.resources !== undefined, prompts: caps.prompts !== undefined, completions: caps.completions !== undefined, subscribe: caps.resources?.subscribe === true };
}

async function pages<T>(list: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | undefined }>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const r = await list(cursor);
    out.push(...r.items);
    cursor = r.nextCursor;
    if (!cursor) break;
  }
  return out;
}

/** Lists what the server declares; a kind it does not declare is an empty list. */
export async function listSubjects(client: Client): Promise<PublishedSubjects> {
  const caps = subjectCapabilities(client);
  const params = (cursor: string | undefined) => (cursor === undefined ? {} : { cursor });
  const [resources, templates, prompts] = await Promise.all([
    caps.resources ? pages(async (c) => { const r = await client.listResources(params(c)); return { items: r.resources, nextCursor: r.nextCursor }; }) : [],
    caps.resources ? pages(async (c) => { const r = await client.listResourceTemplates(params(c)); return { items: r.resourceTemplates, nextCursor: r.nextCursor }; }) : [],
    caps.prompts ? pages(async (c) => { const r = await client.listPrompts(params(c)); return { items: r.prompts, nextCursor: r.nextCursor }; }) : [],
  ]);
  return { resources, templates, prompts } as PublishedSubjects;
}

/** What the synthetic tools need of the server's connection. */
export interface SubjectCaller {
  /**
   * Sends one request of the server (`resources/read`, `prompts/get`, `completion/complete`); throws
   * `ToolError` naming the server. `onRelayed` is told of each note relayed under `key` meanwhile;
   * `agent` (the call's root agent) picks the agent's own connection of a server isolated per agent.
   */
  request(
    method: 'resources/read' | 'prompts/get' | 'completion/complete',
    params: Record<string, unknown>,
    opts: { readonly signal: AbortSignal; readonly timeoutMs: number; readonly key: string; readonly onRelayed?: () => void; readonly agent?: string },
  ): Promise<Record<string, unknown>>;
}

const uriInput = z.object({ uri: z.string().min(1).max(2048) }).strict();
const promptInput = z.object({ name: z.string().min(1).max(256), arguments: z.record(z.string(), z.string()).optional() }).strict();
const completionInput = z
  .object({
    ref: z.union([z.object({ type: z.literal('ref/prompt'), name: z.string().min(1) }).strict(), z.object({ type: z.literal('ref/resource'), uri: z.string().min(1) }).strict()]),
    argument: z.object({ name: z.string(), value: z.string() }).strict(),
    context: z.object({ arguments: z.record(z.string(), z.string()).optional() }).strict().optional(),
  })
  .strict();

/** The synthetic catalog tools of one server, for what it declares. */
export function subjectToolDefinitions(server: NamedUpstream, caps: SubjectCapabilities, caller: SubjectCaller): AnyToolDefinition[] {
  const timeoutMs = Math.max(100, Math.floor(server.timeoutMs * 0.9));
  const tool = (method: 'resources/read' | 'prompts/get' | 'completion/complete', input: z.ZodTypeAny, description: string): AnyToolDefinition =>
    defineTool({
      name: `${server.name}.${method}`,
      description,
      effect: 'read',
      environment: 'production',
      resource: server.name,
      input,
      output: z.unknown(),
      timeoutMs: server.timeoutMs,
      // Reading twice equals reading once: the session's policy classifies these as idempotent reads.
      retry: { maxAttempts: server.maxAttempts, nonRetryable: ['UpstreamError', 'UpstreamProtocolError', 'UpstreamResultTooLarge'] },
      idempotent: true,
      upstream: { server: server.name, tool: method, readOnlyHint: true },
      handler: async (args: unknown, ctx: ToolContext) =>
        caller.request(method, args as Record<string, unknown>, {
          signal: ctx.signal,
          timeoutMs,
          key: ctx.idempotencyKey,
          ...(ctx.countRelayedNote ? { onRelayed: ctx.countRelayedNote } : {}),
          ...(ctx.agentId !== undefined ? { agent: ctx.agentId } : {}),
        }),
    });
  const out: AnyToolDefinition[] = [];
  if (caps.resources) out.push(tool('resources/read', uriInput, `reads a resource of upstream MCP server \`${server.name}\``));
  if (caps.prompts) out.push(tool('prompts/get', promptInput, `gets a prompt of upstream MCP server \`${server.name}\``));
  if (caps.completions && (caps.resources || caps.prompts)) out.push(tool('completion/complete', completionInput, `completes an argument of a prompt or resource template of upstream MCP server \`${server.name}\``));
  return out;
}
