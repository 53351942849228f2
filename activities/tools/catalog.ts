/**
 * A tool catalog: the tools of one deployment by name, plus the database that holds the
 * `tool_executions` ledger (and that handlers' transactions run on). Also the views of it other
 * layers need: `catalogInfo` for the policy engine, `describeCatalog` for the workflow (timeouts,
 * attempts) and `redactArgs` for everything that logs arguments.
 */
import type { Pool } from 'pg';
import type { ToolInfo } from '../../policies/types';
import type { AnyToolDefinition, ToolExecution } from './define';
import { CatalogError } from './errors';
import { redactAllStrings, redactPaths } from './redact';

/** ToolInfo plus what the workflow needs to proxy the tool's activity. */
export interface ToolDescriptor extends ToolInfo {
  readonly sensitiveFields: readonly string[];
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  /** Error types the tool never retries (for the activity's retry policy). */
  readonly nonRetryable: readonly string[];
  readonly idempotent: boolean;
  readonly execution: ToolExecution;
}

/**
 * A map of tools by name, bound to the database of its ledger. The tools it is built with never
 * change; the tools of upstream MCP servers are swapped per server as the servers list them
 * (`setUpstreamTools`), and `version` counts the swaps.
 */
export class ToolCatalog {
  #tools: ReadonlyMap<string, AnyToolDefinition>;
  #version = 0;
  /** The production database: the ledger lives here and handlers' transactions run here. */
  readonly database: Pool;

  constructor(opts: { readonly tools: readonly AnyToolDefinition[]; readonly database: Pool }) {
    const tools = new Map<string, AnyToolDefinition>();
    for (const t of opts.tools) {
      // Two tools of one name would make the policy and the runtime disagree on which one runs.
      if (tools.has(t.name)) throw new CatalogError(`duplicate tool name \`${t.name}\``);
      tools.set(t.name, t);
    }
    this.#tools = tools;
    this.database = opts.database;
  }

  /** Bumped on every change of the upstream tools. */
  get version(): number {
    return this.#version;
  }

  /**
   * Replaces the tools of one upstream MCP server (all of them `upstream.server === server`).
   * Throws `CatalogError` when a name is taken by a tool of the catalog or of another server.
   */
  setUpstreamTools(server: string, tools: readonly AnyToolDefinition[]): void {
    const next = new Map<string, AnyToolDefinition>();
    for (const [name, t] of this.#tools) if (t.upstream?.server !== server) next.set(name, t);
    for (const t of tools) {
      if (t.upstream?.server !== server) throw new CatalogError(`tool \`${t.name}\` is not a tool of upstream server \`${server}\``);
      if (next.has(t.name)) throw new CatalogError(`duplicate tool name \`${t.name}\``);
      next.set(t.name, t);
    }
    this.#tools = next;
    this.#version += 1;
  }

  get(name: string): AnyToolDefinition | undefined {
    return this.#tools.get(name);
  }

  has(name: string): boolean {
    return this.#tools.has(name);
  }

  /** Tool names in definition order. */
  names(): string[] {
    return [...this.#tools.keys()];
  }

  tools(): AnyToolDefinition[] {
    return [...this.#tools.values()];
  }

  get size(): number {
    return this.#tools.size;
  }
}

/** Builds a catalog; throws `CatalogError` on duplicate names. */
export function createCatalog(tools: readonly AnyToolDefinition[], opts: { readonly database: Pool }): ToolCatalog {
  return new ToolCatalog({ tools, database: opts.database });
}

/** What the policy engine knows of each tool (no handlers, no schemas; the defaults the schema fills in, when it has any). */
export function catalogInfo(catalog: ToolCatalog): ToolInfo[] {
  return catalog.tools().map((t) => ({
    name: t.name,
    description: t.description,
    effect: t.effect,
    environment: t.environment,
    resource: t.resource,
    estimatesBlastRadius: t.estimatesBlastRadius,
    ...(t.upstream ? { upstream: { ...t.upstream } } : {}),
    ...(t.argumentDefaults && Object.keys(t.argumentDefaults).length > 0 ? { argumentDefaults: { ...t.argumentDefaults } } : {}),
  }));
}

/** ToolInfo plus runtime settings, plain JSON, safe to hand to workflow code. */
export function describeCatalog(catalog: ToolCatalog): ToolDescriptor[] {
  const info = catalogInfo(catalog);
  return catalog.tools().map((t, i) => ({
    ...info[i]!,
    sensitiveFields: [...t.sensitive],
    timeoutMs: t.timeoutMs,
    maxAttempts: t.retry.maxAttempts,
    nonRetryable: [...(t.retry.nonRetryable ?? [])],
    idempotent: t.idempotent,
    execution: t.execution,
  }));
}

/**
 * Arguments with the tool's sensitive paths replaced by `[REDACTED]`. For a tool the catalog does
 * not know, every string value is redacted (see `redactAllStrings`): we cannot know which field is
 * secret, so we keep the shape and the numbers and drop the text.
 */
export function redactArgs(catalog: ToolCatalog, tool: string, args: unknown): Record<string, unknown> {
  const def = catalog.get(tool);
  const value = def ? redactPaths(args, def.sensitive) : redactAllStrings(args);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  // Arguments that are not an object (malformed proposals) are wrapped so callers always get a record.
  return { value: redactAllStrings(args) };
}
