/**
 * What `tools/list` shows an MCP client: every catalog tool (name, description with its effect,
 * input schema as JSON Schema from the tool's zod schema, annotations) and Gatehouse's own two
 * tools, `gatehouse_declare_intent` and `gatehouse_await_approval`.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';
import type { Effect } from '../../policies/types';

/** What the MCP layer needs of a catalog tool (`catalog.tools()` or `SAMPLE_TOOLS` fit). */
export interface McpToolInfo {
  readonly name: string;
  readonly description: string;
  readonly effect: Effect;
  readonly environment: string;
  readonly input: z.ZodTypeAny;
}

export const DECLARE_INTENT_TOOL = 'gatehouse_declare_intent';
export const AWAIT_APPROVAL_TOOL = 'gatehouse_await_approval';

/** Longest wait `gatehouse_await_approval` accepts (an approval's deadline is 15 minutes by default). */
export const MAX_AWAIT_SECONDS = 900;
/** Its wait when the call names none: under the 60 s request timeout most clients use. */
export const DEFAULT_AWAIT_SECONDS = 50;

const EFFECT_NOTE: Record<Effect, string> = {
  read: 'reads only',
  write: 'changes state',
  destructive: 'destroys data',
};

/** The MCP view of one catalog tool. */
export function catalogTool(tool: McpToolInfo): Tool {
  return {
    name: tool.name,
    description: `${tool.description.trim().replace(/\.$/, '')}. Effect: ${tool.effect} (${EFFECT_NOTE[tool.effect]}), environment: ${tool.environment}. Gated by Gatehouse: a call runs, waits for a human, or is refused by policy; declare your intent with \`${DECLARE_INTENT_TOOL}\` first.`,
    inputSchema: inputJsonSchema(tool),
    annotations: {
      title: tool.name,
      readOnlyHint: tool.effect === 'read',
      destructiveHint: tool.effect === 'destructive',
      openWorldHint: false,
    },
  };
}

/** The tool's zod input schema as a JSON Schema object (what the agent may send, defaults optional). */
export function inputJsonSchema(tool: McpToolInfo): Tool['inputSchema'] {
  // Called through a plain signature: its generic options type is too deep for the checker here.
  const convert = zodToJsonSchema as unknown as (schema: z.ZodTypeAny, options: Record<string, unknown>) => Record<string, unknown>;
  const schema = convert(tool.input, { target: 'jsonSchema7', $refStrategy: 'none', effectStrategy: 'input' });
  delete schema.$schema;
  if (schema.type !== 'object') throw new Error(`tool \`${tool.name}\`: MCP needs an object input schema, the zod schema gives \`${String(schema.type)}\``);
  return schema as Tool['inputSchema'];
}

/** Gatehouse's own tools. */
export const GATEHOUSE_TOOLS: readonly Tool[] = [
  {
    name: DECLARE_INTENT_TOOL,
    description:
      'Declare what you are going to do in this session, in one or two sentences, before calling any other tool. Gatehouse starts your session with it and checks every later call against it; it cannot be changed afterwards (start a new MCP session for another task).',
    inputSchema: {
      type: 'object',
      properties: { intent: { type: 'string', minLength: 3, maxLength: 2000, description: 'What you intend to do and why' } },
      required: ['intent'],
      additionalProperties: false,
    },
    annotations: { title: 'Declare intent', readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  },
  {
    name: AWAIT_APPROVAL_TOOL,
    description: `Wait for the outcome of a call that was held for human approval (its \`approvalId\`). Returns the call's final outcome (executed, denied, failed, expired) or, if nobody decided within \`timeoutSeconds\` (default ${DEFAULT_AWAIT_SECONDS}, at most ${MAX_AWAIT_SECONDS}), that it is still held; call again to keep waiting.`,
    inputSchema: {
      type: 'object',
      properties: {
        approvalId: { type: 'string', minLength: 3, description: 'The approval id a held call returned, `<sessionId>:<n>`' },
        timeoutSeconds: { type: 'integer', minimum: 1, maximum: MAX_AWAIT_SECONDS, description: `How long to wait (default ${DEFAULT_AWAIT_SECONDS})` },
      },
      required: ['approvalId'],
      additionalProperties: false,
    },
    annotations: { title: 'Await approval', readOnlyHint: true, destructiveHint: false, openWorldHint: false },
  },
];

/** Every tool an MCP client sees: Gatehouse's two, then the catalog's. */
export function listTools(tools: readonly McpToolInfo[]): Tool[] {
  return [...GATEHOUSE_TOOLS, ...tools.map(catalogTool)];
}
