/**
 * Catalog tools made from the tools an upstream MCP server lists: `<server>.<tool>`, validated
 * with ajv against the server's own input JSON Schema (inside the zod schema `prepareCall` and
 * `runTool` already check, so a bad call is refused before the policy sees it), run through
 * `runTool` like every tool. The handler marks the call started before the request leaves (see
 * `in-flight.ts`), and turns an `isError` result or a transport fault into a `ToolError` naming
 * the server. The effect is a placeholder (`destructive`): the policy classifies the tool.
 * Node-only.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import type { Pool } from 'pg';
import { z } from 'zod';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { PublishedUpstreamTool } from '../../audit/upstream-listing';
import { defineTool, type AnyToolDefinition, type ToolContext } from '../tools/define';
import { CatalogError, ToolError } from '../tools/errors';
import { shownLine } from '../../approvals/shown-text';
import { MAX_DEFAULT_DEPTH, MAX_DEFAULTS } from '../tools/input-schema-rules';
import type { NamedUpstream } from './config';
import { markFinished, markStarted } from './in-flight';
import { unofferedToolName } from './tool-names';

/** What a tool's handler needs of the server's connection. */
export interface UpstreamCaller {
  /**
   * `key` (the call's idempotency key) relays the server's progress and log notifications during
   * the call; `onRelayed` is told of each one the gateways were sent. `agent` (the call's root
   * agent) picks the agent's own connection of a server isolated per agent (`agent-connections.ts`).
   */
  callTool(
    tool: string,
    args: Record<string, unknown>,
    opts: { readonly signal: AbortSignal; readonly timeoutMs: number; readonly key?: string; readonly onRelayed?: () => void; readonly agent?: string },
  ): Promise<CallToolResult>;
}

const ajvOptions = { allErrors: true, strict: false, validateFormats: false };

/**
 * Compiled validators by dialect and schema text, the most recent `MAX_COMPILED_SCHEMAS`: a server
 * listing its tools again (or announcing `list_changed` in a loop) compiles nothing new. An ajv
 * instance keeps something of every schema it ever compiled, so the instances are replaced after
 * every `MAX_COMPILED_SCHEMAS` compiles: the validators made by older ones go on working, and the
 * old instances are freed once their validators have left the cache.
 */
const compiled = new Map<string, ValidateFunction>();
export const MAX_COMPILED_SCHEMAS = 2_000;
let compilers = { draft7: new Ajv(ajvOptions), draft2020: new Ajv2020(ajvOptions), compiles: 0, generation: 0 };

/** How many compiled validators are kept, and how many times the compilers were replaced. */
export function compiledSchemas(): { readonly kept: number; readonly generation: number } {
  return { kept: compiled.size, generation: compilers.generation };
}

/** Compiles an upstream input schema; a schema ajv cannot compile refuses every call (never allows unchecked ones). */
export function compileInputSchema(schema: unknown): ValidateFunction | { readonly error: string } {
  try {
    const s = (schema ?? {}) as Record<string, unknown>;
    const dialect = typeof s.$schema === 'string' && s.$schema.includes('2020-12') ? 'draft2020' : 'draft7';
    const { $id: _drop, ...rest } = s; // one server's `$id`s must not collide with another's in the shared instance
    const key = `${dialect} ${JSON.stringify(rest)}`;
    const known = compiled.get(key);
    if (known) return known;
    if (compilers.compiles >= MAX_COMPILED_SCHEMAS) compilers = { draft7: new Ajv(ajvOptions), draft2020: new Ajv2020(ajvOptions), compiles: 0, generation: compilers.generation + 1 };
    compilers.compiles += 1;
    const ajv = compilers[dialect];
    const validate = ajv.compile(rest);
    ajv.removeSchema(rest);
    if (compiled.size >= MAX_COMPILED_SCHEMAS) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, validate);
    return validate;
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** ajv's errors as zod issues: dotted path (a missing property's name appended), lower-case message. */
function issuesOf(errors: readonly ErrorObject[]): { path: (string | number)[]; message: string }[] {
  return errors.map((e) => {
    const path = e.instancePath.split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (e.keyword === 'required' && typeof e.params.missingProperty === 'string') path.push(e.params.missingProperty);
    if (e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string') path.push(e.params.additionalProperty);
    return { path, message: (e.message ?? 'is invalid').toLowerCase() };
  });
}

/** The zod schema a catalog tool needs, checking with ajv against the upstream's JSON Schema. */
export function upstreamInputSchema(server: string, tool: Tool): z.ZodTypeAny {
  const validate = compileInputSchema(tool.inputSchema);
  return z.unknown().superRefine((value, ctx) => {
    if ('error' in validate) {
      ctx.addIssue({ code: 'custom', message: `the input schema of \`${server}.${tool.name}\` does not compile: ${validate.error}` });
      return;
    }
    if (validate(value)) return;
    for (const issue of issuesOf(validate.errors ?? [])) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });
}

/**
 * The `default`s an upstream tool's input JSON Schema declares for its properties, top-level and
 * nested object properties, by dotted path (`options.dryRun`): what `ToolInfo.argumentDefaults`
 * publishes, so a bound on an argument the call leaves out judges the value the server runs it with.
 * Only what the schema says: a server that fills in a default it does not declare cannot be seen
 * (a bound on such an argument should say `required: true`). Keys holding a `.` are left out (no
 * bound path can name them), as are defaults under lists, `$ref`s and combinators.
 */
export function jsonSchemaDefaults(schema: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let count = 0;
  const walk = (node: unknown, prefix: string, depth: number): void => {
    if (depth > MAX_DEFAULT_DEPTH || node === null || typeof node !== 'object' || Array.isArray(node)) return;
    const props = (node as { properties?: unknown }).properties;
    if (props === null || typeof props !== 'object' || Array.isArray(props)) return;
    for (const [key, prop] of Object.entries(props as Record<string, unknown>)) {
      if (key.includes('.') || key === '__proto__' || prop === null || typeof prop !== 'object' || Array.isArray(prop)) continue;
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (Object.prototype.hasOwnProperty.call(prop, 'default') && count < MAX_DEFAULTS) {
        out[path] = (prop as { default: unknown }).default;
        count += 1;
      }
      walk(prop, path, depth + 1);
    }
  };
  walk(schema, '', 0);
  return out;
}

/** The text of a result's content, for error messages. */
function contentText(result: CallToolResult): string {
  const texts = (result.content ?? []).flatMap((c) => (c.type === 'text' ? [c.text] : []));
  return texts.join(' ').trim().slice(0, 500) || 'no message';
}

export interface UpstreamToolOptions {
  readonly server: NamedUpstream;
  readonly tool: Tool;
  readonly caller: UpstreamCaller;
  /**
   * The production database, through a pool of its own: the in-flight marks live beside the
   * ledger, and are written while the call's ledger transaction holds a connection of the catalog's pool.
   */
  readonly markers: Pool;
}

/**
 * What a server's `sensitive` list names that its listing does not: a tool it does not list, or a
 * path whose first segment is none of the tool's declared arguments (`inputSchema.properties`).
 * Such an entry redacts nothing, so an argument meant secret reaches the append-only trail as
 * written (a typo, or a tool the server renamed): one line per entry, for the worker's log and
 * `gatehouse policy check --config`.
 */
export function sensitiveMismatches(server: Pick<NamedUpstream, 'name' | 'sensitive'>, tools: readonly Pick<Tool, 'name' | 'inputSchema'>[]): string[] {
  const byName = new Map(tools.map((t) => [t.name, t]));
  const out: string[] = [];
  for (const [name, paths] of Object.entries(server.sensitive)) {
    const tool = byName.get(name);
    if (!tool) {
      out.push(`upstream \`${server.name}\`: \`sensitive\` names tool \`${shownLine(name)}\`, which the server does not list: it redacts nothing`);
      continue;
    }
    const declared = new Set(Object.keys(tool.inputSchema.properties ?? {}));
    for (const path of paths) {
      const first = path.split('.')[0]!;
      if (first !== '*' && !declared.has(first)) out.push(`upstream \`${server.name}\`: \`sensitive\` path \`${shownLine(path)}\` of \`${shownLine(name)}\` names no argument the tool declares: it redacts nothing`);
    }
  }
  return out;
}

/** The catalog tool of one upstream tool. */
export function upstreamToolDefinition(opts: UpstreamToolOptions): AnyToolDefinition {
  const { server, tool, caller, markers } = opts;
  // Never under one of Gatehouse's own names (a server's `resources/read` is not a resource read).
  const unoffered = unofferedToolName(server.name, tool.name);
  if (unoffered !== undefined) throw new CatalogError(unoffered);
  const name = `${server.name}.${tool.name}`;
  const hints = tool.annotations ?? {};
  // A little under the activity's own timeout, so the upstream's timeout is what gets recorded.
  const callTimeoutMs = Math.max(100, Math.floor(server.timeoutMs * 0.9));
  return defineTool({
    name,
    description: (tool.description ?? '').trim() || `tool \`${tool.name}\` of upstream MCP server \`${server.name}\``,
    effect: 'destructive',
    environment: 'production',
    resource: server.name,
    input: upstreamInputSchema(server.name, tool),
    declaredArguments: Object.keys(tool.inputSchema.properties ?? {}),
    argumentDefaults: jsonSchemaDefaults(tool.inputSchema),
    output: z.unknown(),
    sensitive: server.sensitive[tool.name] ?? [],
    timeoutMs: server.timeoutMs,
    retry: { maxAttempts: server.maxAttempts, nonRetryable: ['UpstreamToolError', 'UpstreamError', 'UpstreamProtocolError', 'UpstreamResultTooLarge', 'OutcomeUnknown'] },
    // `execution` is defineTool's default: a local activity when timeoutMs ≤ 10 s (no server round trip), else a heartbeating activity.
    // Idempotency is the session policy's to say (`upstreamTools.<glob>.idempotent`): the workflow passes the attempts it allows.
    idempotent: false,
    upstream: {
      server: server.name,
      tool: tool.name,
      ...(typeof hints.readOnlyHint === 'boolean' ? { readOnlyHint: hints.readOnlyHint } : {}),
      ...(typeof hints.destructiveHint === 'boolean' ? { destructiveHint: hints.destructiveHint } : {}),
    },
    query: async (args: unknown, signal: AbortSignal) => {
      const result = await caller.callTool(tool.name, (args ?? {}) as Record<string, unknown>, { signal, timeoutMs: callTimeoutMs });
      if (result.isError) throw new ToolError('UpstreamToolError', `upstream server \`${server.name}\`: \`${tool.name}\` failed: ${contentText(result)}`);
      return result;
    },
    handler: async (args: unknown, ctx: ToolContext) => {
      const started = await markStarted(markers, ctx.idempotencyKey, name);
      // Not said idempotent (or not said at all): an earlier attempt's unknown outcome is never repeated.
      if (started === 'unfinished' && (ctx.maxAttempts ?? 1) <= 1) {
        throw new ToolError(
          'OutcomeUnknown',
          `upstream server \`${server.name}\`: an earlier attempt of \`${tool.name}\` (key \`${ctx.idempotencyKey}\`) started and never reported back; its outcome is unknown and it is not repeated (the policy does not call the tool idempotent)`,
        );
      }
      // Nor one that finished but whose outcome the ledger does not hold: with one attempt allowed, a
      // second attempt of the key is a duplicate (a retried workflow task) that took the ledger's lock
      // after the first failed and before its failure was recorded. The first may have acted.
      if (started === 'finished' && (ctx.maxAttempts ?? 1) <= 1) {
        throw new ToolError(
          'OutcomeUnknown',
          `upstream server \`${server.name}\`: an earlier attempt of \`${tool.name}\` (key \`${ctx.idempotencyKey}\`) reached the server and its outcome was not recorded; it is not repeated (the policy does not call the tool idempotent)`,
        );
      }
      let result: CallToolResult;
      try {
        result = await caller.callTool(tool.name, (args ?? {}) as Record<string, unknown>, {
          signal: ctx.signal,
          timeoutMs: callTimeoutMs,
          key: ctx.idempotencyKey,
          ...(ctx.countRelayedNote ? { onRelayed: ctx.countRelayedNote } : {}),
          ...(ctx.agentId !== undefined ? { agent: ctx.agentId } : {}),
        });
      } catch (err) {
        // A call that never reached the server, or whose answer was lost, is finished for this attempt.
        await markFinished(markers, ctx.idempotencyKey).catch(() => undefined);
        throw err;
      }
      // Answered: marked off the call's critical path (one round trip fewer). Until the mark lands
      // the row reads unfinished, which decides a later attempt of the key as finished does
      // (OutcomeUnknown with one attempt, a repeat with more); and a later attempt finds the
      // ledger row first, committed with this answer, unless that commit failed.
      markFinished(markers, ctx.idempotencyKey).catch(() => undefined);
      if (result.isError) throw new ToolError('UpstreamToolError', `upstream server \`${server.name}\`: \`${tool.name}\` failed: ${contentText(result)}`);
      return { content: result.content ?? [], ...(result.structuredContent !== undefined ? { structuredContent: result.structuredContent } : {}) };
    },
  });
}

/** What the gateway shows of an upstream tool (published by the worker). */
export function publishedTool(server: string, tool: Tool): PublishedUpstreamTool {
  const hints = tool.annotations ?? {};
  return {
    name: `${server}.${tool.name}`,
    description: (tool.description ?? '').trim(),
    inputSchema: tool.inputSchema as Record<string, unknown>,
    ...(typeof hints.readOnlyHint === 'boolean' ? { readOnlyHint: hints.readOnlyHint } : {}),
    ...(typeof hints.destructiveHint === 'boolean' ? { destructiveHint: hints.destructiveHint } : {}),
  };
}
