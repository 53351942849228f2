/**
 * The gateway's messages, one zod schema each: requests are parsed with them, their types come
 * from them, and `/v1/openapi.json` is generated from them. Each request schema is checked at
 * compile time against the session contract (`workflows/contract.ts`) it feeds, so the wire shape
 * and the workflow's shape cannot drift apart.
 */
import { z } from 'zod';
import type { EndInput, SessionProposal, SpawnChildInput } from '../workflows/contract';
import type { BudgetOverride, Mandate } from '../policies/types';
import { hasSubSessionForm, SESSION_ID_PATTERN } from '../policies/agent-id';
import { describePath, MAX_ARGS_DEPTH, tooDeepAt } from '../policies/json-depth';

const NAME = /^[\w.:-]{1,120}$/;
const name = (what: string) => z.string().regex(NAME, `${what} must be 1 to 120 letters, digits or \`.:_-\``);
const count = z.number().int().min(0);

export const budgetSchema = z
  .object({ actions: count.optional(), writes: count.optional(), critical: count.optional(), tokens: count.optional() })
  .strict()
  .describe('a tighter budget than the policy gives (budgets may only tighten)');

export const mandateSchema = z
  .object({ tools: z.array(z.string().min(1).max(200)).max(200).optional(), resources: z.array(z.string().min(1).max(200)).max(200).optional() })
  .strict()
  .describe('what the declared intent covers: tool names or globs, resource families');

/** `POST /v1/sessions`. Identity comes from the credential; a policy document is refused (unknown field). */
export const startSessionSchema = z
  .object({
    intent: z.string().trim().min(1).max(4000).describe('what the session is for, in words'),
    sessionId: z
      .string()
      .regex(SESSION_ID_PATTERN, '`sessionId` must be 1 to 120 letters, digits or `._-`, with a letter or digit (a `:` would spell another session\'s ledger keys)')
      .refine((id) => !hasSubSessionForm(id), '`sessionId` may not end in `.<number>`: that form is a sub-agent\'s, chosen by its parent session')
      .optional()
      .describe('default: a random uuid; never reused; never of the form `<id>.<n>` (a sub-agent\'s)'),
    policyRef: name('`policyRef`').optional().describe('a policy the worker loaded that the credential lists'),
    budget: budgetSchema.optional(),
    mandate: mandateSchema.optional(),
  })
  .strict();

/**
 * The form of a proposal's tool, which every real tool has: catalog tools (`billing.deleteRecords`),
 * an upstream server's (`<server>.<tool>`, `<server>.resources/read`, `.prompts/get`,
 * `.completion/complete`) and `session.spawnChild`. Any other text would reach people as a name: a
 * denied call's tool is listed among a session's recent calls (`volumes.delete approve → executed ·`
 * reads as history). `/v1` (422) and `/mcp` (a `tool.name` refusal) propose no other.
 */
export const TOOL_NAME = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;

/** A proposal's tool (`TOOL_NAME`). */
export const toolNameSchema = z
  .string()
  .regex(TOOL_NAME, '`tool` must be a tool name: a letter or digit, then at most 199 letters, digits or `._/-`')
  .describe('a tool name, as the catalog and `tools/list` give it');

/** `POST /v1/sessions/{id}/proposals`: one proposed tool call. */
export const proposalSchema = z
  .object({
    tool: toolNameSchema,
    args: z.record(z.unknown()).superRefine((args, ctx) => {
      // The workflow refuses the same; here it is a 422 before anything is sent to Temporal.
      const deep = tooDeepAt(args, MAX_ARGS_DEPTH);
      if (deep) ctx.addIssue({ code: z.ZodIssueCode.custom, path: deep.slice(0, 12), message: `\`args.${describePath(deep)}\` nests deeper than ${MAX_ARGS_DEPTH} levels`, params: { rule: 'args.depth' } });
    }),
    reasoning: z.string().max(16_000).default(''),
    tokenCost: z.number().finite().min(0).optional(),
    idempotencyKey: z.string().min(1).max(200).optional(),
    requestUnlock: z.boolean().optional().describe('ask humans to unlock a call denied only by a forbidden transition'),
  })
  .strict();

/** `POST /v1/sessions/{id}/children`: a sub-agent with its own intent. */
export const spawnChildSchema = z
  .object({
    agentId: name('`agentId`').describe('the sub-agent\'s name: its agent id is `<your agent id>/<agentId>`; its session id `<session id>.<n>`'),
    intent: z.string().trim().min(1).max(4000),
    mandate: mandateSchema.optional(),
  })
  .strict();

/** `POST /v1/sessions/{id}/end`. */
export const endSchema = z.object({ reason: z.string().max(2000).optional() }).strict();

/** `POST /v1/sessions/{id}/halt`: an agent stops itself (no signature: stopping is always allowed). */
export const haltSchema = z.object({ reason: z.string().trim().min(1).max(2000) }).strict();

/** `?wait=<seconds>` of the proposal routes. */
export const waitQuerySchema = z
  .object({ wait: z.coerce.number().min(0).max(60).default(25).describe('seconds to wait for the outcome (default 25, at most 60)') })
  .strict();

/** Path parameters. */
export const sessionParamsSchema = z.object({ id: z.string().min(1).max(200) }).strict();
export const proposalParamsSchema = z.object({ id: z.string().min(1).max(200), proposalId: z.string().min(1).max(200) }).strict();

/** 201 of `POST /v1/sessions`. */
export const sessionCreatedSchema = z.object({
  sessionId: z.string(),
  workflowId: z.string(),
  agentId: z.string(),
  owner: z.string(),
  policyHash: z.string(),
  mode: z.string(),
});

/** 202 of a proposal still running after `wait` seconds (held for a person, or queued). */
export const pendingSchema = z.object({
  status: z.literal('pending'),
  proposalId: z.string().describe('`GET /v1/sessions/{id}/proposals/{proposalId}` returns the outcome'),
  approvalId: z.string().optional(),
  proposalSeq: z.number().int().optional(),
});

export type StartSessionBody = z.output<typeof startSessionSchema>;
export type ProposalBody = z.output<typeof proposalSchema>;
export type SessionCreated = z.output<typeof sessionCreatedSchema>;
export type Pending = z.output<typeof pendingSchema>;

// Compile-time checks: each parsed body is exactly assignable to what the workflow takes.
type Assignable<T extends U, U> = T;
export type Checks = [
  Assignable<ProposalBody, SessionProposal>,
  Assignable<z.output<typeof spawnChildSchema>, SpawnChildInput>,
  Assignable<z.output<typeof endSchema>, EndInput>,
  Assignable<z.output<typeof budgetSchema>, BudgetOverride>,
  Assignable<z.output<typeof mandateSchema>, Mandate>,
];
