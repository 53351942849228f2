/**
 * `defineTool`: the typed wrapper around one production capability. A definition carries what
 * the policy engine sees (name, description, effect, environment, resource), what the runtime
 * needs (zod input/output schemas, sensitive argument paths, timeout, retry, idempotency, an
 * optional blast-radius estimate) and the handler, which holds its own credentials. Agents only
 * ever see the name, description and argument schema — never SQL or credentials.
 */
import type { ClientBase } from 'pg';
import type { z } from 'zod';
import type { Effect, UpstreamHints } from '../../policies/types';
import { CatalogError } from './errors';
import { inputDefaults, valueChangingPart } from './input-schema-rules';

/** What an estimator may use: a read-only transaction on the catalog's database. */
export interface EstimateContext {
  /** A client inside a `READ ONLY` transaction that is rolled back afterwards. */
  readonly db: ClientBase;
  readonly signal: AbortSignal;
}

/** What a handler gets from runTool. */
export interface ToolContext {
  /**
   * A client inside the transaction that also records the call in the `tool_executions` ledger:
   * writes made through it commit together with the ledger row, or not at all.
   */
  readonly db: ClientBase;
  readonly idempotencyKey: string;
  readonly sessionId: string;
  readonly proposalSeq: number;
  /** The root agent the call is for, when the workflow says (it does for upstream MCP tools): an upstream isolated per agent is called over its connection. */
  readonly agentId?: string;
  /** Temporal attempt number (1 outside an activity). */
  readonly attempt: number;
  /**
   * Attempts the session's policy allows this call for its own failures, when the workflow says
   * (it does for upstream MCP tools: 1 unless the policy calls the tool idempotent). Absent: not said.
   */
  readonly maxAttempts?: number;
  /** Aborted when Temporal cancels the activity (e.g. after a halt). */
  readonly signal: AbortSignal;
  /** Reports progress to Temporal; runTool also heartbeats on its own while the handler runs (regular activities; a no-op in a local activity). */
  heartbeat(details?: unknown): void;
  /**
   * Counts one upstream notification relayed to the gateways for this call (`relayedNotes` of its
   * outcome): the MCP gateway waits for that many before it answers, and for none when it is 0.
   */
  countRelayedNote?(): void;
}

export interface ToolRetry {
  /** Attempts in all, the first included (1 = never retried). */
  readonly maxAttempts: number;
  /** Error types that are never retried, even when the error says it is transient. */
  readonly nonRetryable?: readonly string[];
}

/**
 * How a call runs. `local-activity`: inside the session's workflow task, in the worker that runs
 * the session — no trip through the Temporal server, so a gated call costs one workflow task; the
 * call cannot heartbeat, and signals and queries wait until it returns. `activity`: a regular
 * Temporal activity that heartbeats, for calls that take long.
 */
export type ToolExecution = 'local-activity' | 'activity';

/** Tools whose timeout is at most this run as local activities unless they say otherwise. */
export const LOCAL_ACTIVITY_MAX_MS = 10_000;

/** Everything `defineTool` takes. */
export interface ToolSpec<I extends z.ZodTypeAny, O extends z.ZodTypeAny> {
  readonly name: string;
  readonly description: string;
  readonly effect: Effect;
  readonly environment: string;
  readonly resource: string;
  readonly input: I;
  readonly output: O;
  /** Argument paths redacted wherever arguments are logged: `value`, `auth.token`, `items.*.secret`. */
  readonly sensitive?: readonly string[];
  /** Upper bound of one attempt (also the SQL statement timeout inside the handler's transaction). */
  readonly timeoutMs: number;
  readonly retry: ToolRetry;
  /** Default: `local-activity` when `timeoutMs` is at most `LOCAL_ACTIVITY_MAX_MS` (10 s), else `activity`. */
  readonly execution?: ToolExecution;
  /** True when running the call twice has the same effect as once (the ledger makes every call at-most-once anyway). */
  readonly idempotent: boolean;
  /** Counts what the call would touch, without touching it (e.g. `COUNT(*)` of a delete's filter). */
  readonly estimateBlastRadius?: (args: z.output<I>, ctx: EstimateContext) => Promise<number>;
  /**
   * Set on a tool of a third-party MCP server: its name is `<server>.<tool>` with the upstream's
   * own spelling (underscores and dashes allowed), and the policy classifies it (`effect` is a placeholder).
   */
  readonly upstream?: UpstreamHints;
  /**
   * Upstream tools only: the call without the ledger, for a read tool the policy names as another
   * tool's blast-radius estimator (`prepareCall` runs it before the decision).
   */
  readonly query?: (args: unknown, signal: AbortSignal) => Promise<unknown>;
  /**
   * Upstream tools only: the argument names the upstream's JSON Schema declares (its top-level
   * `properties`). Intent scoring reads only these: an undeclared argument cannot lift a call's score.
   */
  readonly declaredArguments?: readonly string[];
  /**
   * The values the tool runs with for arguments a call leaves out, by dotted path. Default: the
   * `.default()`s of the zod input schema (`inputDefaults`); an upstream tool gives its JSON Schema's.
   */
  readonly argumentDefaults?: Readonly<Record<string, unknown>>;
  readonly handler: (args: z.output<I>, ctx: ToolContext) => Promise<z.input<O>>;
}

/** A validated tool definition. */
export interface ToolDefinition<I extends z.ZodTypeAny = z.ZodTypeAny, O extends z.ZodTypeAny = z.ZodTypeAny> extends ToolSpec<I, O> {
  readonly sensitive: readonly string[];
  readonly estimatesBlastRadius: boolean;
  readonly execution: ToolExecution;
  /** Published with the tool's info (`ToolInfo.argumentDefaults`): a bound on a missing argument judges its default. */
  readonly argumentDefaults: Readonly<Record<string, unknown>>;
}

/** Any tool, as stored in a catalog (`any` because handler arguments make the schema types invariant). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyToolDefinition = ToolDefinition<any, any>;

const NAME = /^[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)+$/;
/** `<server>.<tool>` of an upstream MCP tool: MCP tool names may hold `_`, `-` and `.`. */
const UPSTREAM_NAME = /^[a-z][a-z0-9_-]*\.[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** A server's resources, prompts and completions (`policies/upstream-subjects.ts`): the `/` keeps them apart from its own tools. */
const UPSTREAM_SUBJECT_NAME = /^[a-z][a-z0-9_-]*\.(resources\/read|prompts\/get|completion\/complete)$/;
const PATH = /^(\*|[A-Za-z_$][\w$-]*)(\.(\*|[A-Za-z_$][\w$-]*))*$/;

/**
 * Checks a tool spec and returns its definition. Throws `CatalogError` on a malformed spec
 * (bad name, empty description, non-positive timeout or attempts, unknown execution, malformed
 * sensitive path).
 */
export function defineTool<I extends z.ZodTypeAny, O extends z.ZodTypeAny>(spec: ToolSpec<I, O>): ToolDefinition<I, O> {
  if (spec.upstream) {
    if (!UPSTREAM_NAME.test(spec.name) && !UPSTREAM_SUBJECT_NAME.test(spec.name)) throw new CatalogError(`invalid upstream tool name \`${spec.name}\`: expected \`<server>.<tool>\` with letters, digits, \`_\`, \`-\` and \`.\``);
  } else if (!NAME.test(spec.name)) {
    throw new CatalogError(`invalid tool name \`${spec.name}\`: expected dotted lower camel case like \`billing.query\``);
  }
  if (spec.description.trim() === '') throw new CatalogError(`tool \`${spec.name}\`: description is empty`);
  if (!(Number.isInteger(spec.timeoutMs) && spec.timeoutMs > 0)) throw new CatalogError(`tool \`${spec.name}\`: timeoutMs must be a positive integer`);
  if (!(Number.isInteger(spec.retry.maxAttempts) && spec.retry.maxAttempts >= 1)) {
    throw new CatalogError(`tool \`${spec.name}\`: retry.maxAttempts must be an integer of at least 1`);
  }
  if (spec.execution !== undefined && spec.execution !== 'local-activity' && spec.execution !== 'activity') {
    throw new CatalogError(`tool \`${spec.name}\`: execution must be \`local-activity\` or \`activity\`, not \`${String(spec.execution)}\``);
  }
  for (const p of spec.sensitive ?? []) {
    if (!PATH.test(p)) throw new CatalogError(`tool \`${spec.name}\`: invalid sensitive path \`${p}\``);
  }
  const changing = valueChangingPart(spec.input);
  if (changing) {
    throw new CatalogError(`tool \`${spec.name}\`: its input schema changes the values it checks (${changing}); the policy judges the arguments as proposed, so the tool must run them as they are`);
  }
  const defaults = spec.argumentDefaults ?? inputDefaults(spec.input);
  return Object.freeze({
    ...spec,
    sensitive: Object.freeze([...(spec.sensitive ?? [])]),
    retry: Object.freeze({ maxAttempts: spec.retry.maxAttempts, nonRetryable: Object.freeze([...(spec.retry.nonRetryable ?? [])]) }),
    estimatesBlastRadius: spec.estimateBlastRadius !== undefined,
    execution: spec.execution ?? (spec.timeoutMs <= LOCAL_ACTIVITY_MAX_MS ? 'local-activity' : 'activity'),
    argumentDefaults: Object.freeze({ ...defaults }),
  });
}
