/**
 * The policy document: its zod schema and defaults. A parsed document is the normalised form
 * (every default filled in), so two files that mean the same thing hash the same.
 *
 * Every schema message says what was expected; `parse.ts` appends what was found and the path.
 */
import { z } from 'zod';
import type { Effect, Tier } from './types';
import { effectSchema, modeSchema, ranged, text, tierSchema, whole } from './document-fields';
import { crossSessionSchema } from './document-cross-session';

export { effectSchema, modeSchema, tierSchema } from './document-fields';
export type { CrossBudgetDoc, CrossSessionDoc, CrossTransitionDoc } from './document-cross-session';

/** Tier per environment; `default` applies to environments not named. */
const tierMapSchema = z.record(text('an environment name'), tierSchema, { invalid_type_error: 'expected a map of environment to tier' });

const rateSchema = z
  .object({ max: whole(0), perSeconds: whole(1), mode: modeSchema.optional() }, { invalid_type_error: 'expected `{ max, perSeconds }`' })
  .strict();
export type RateLimit = z.output<typeof rateSchema>;

const argBoundSchema = z
  .object(
    {
      min: z.number({ invalid_type_error: 'expected a number' }).optional(),
      max: z.number({ invalid_type_error: 'expected a number' }).optional(),
      pattern: z
        .string({ invalid_type_error: 'expected a regular expression' })
        .refine((p) => isRegExp(p), { message: 'expected a valid regular expression' })
        .optional(),
      enum: z.array(z.union([z.string(), z.number(), z.boolean(), z.null()]), { invalid_type_error: 'expected a list of values' }).min(1, { message: 'expected at least one value' }).optional(),
      maxItems: whole(0).optional(),
      maxLength: whole(0).optional(),
      required: z.boolean({ invalid_type_error: 'expected true or false' }).optional(),
    },
    { invalid_type_error: 'expected an argument bound `{ min?, max?, pattern?, enum?, maxItems?, maxLength?, required? }`' },
  )
  .strict()
  .refine((b) => b.min === undefined || b.max === undefined || b.min <= b.max, { message: 'expected `min` ≤ `max`' });
export type ArgBound = z.output<typeof argBoundSchema>;

const blastSchema = z
  .object({ approvalAbove: whole(0).optional(), denyAbove: whole(0).optional() }, { invalid_type_error: 'expected `{ approvalAbove?, denyAbove? }`' })
  .strict()
  .refine((b) => b.approvalAbove === undefined || b.denyAbove === undefined || b.approvalAbove <= b.denyAbove, {
    message: 'expected `approvalAbove` ≤ `denyAbove`',
  });

const toolRuleSchema = z
  .object(
    {
      tier: tierSchema.optional(),
      mode: modeSchema.optional(),
      args: z.record(text('an argument path'), argBoundSchema, { invalid_type_error: 'expected a map of argument path to bound' }).optional(),
      blastRadius: blastSchema.optional(),
      rateLimit: rateSchema.optional(),
    },
    { invalid_type_error: 'expected a tool rule `{ tier?, args?, blastRadius?, rateLimit?, mode? }`' },
  )
  .strict();
export type ToolRule = z.output<typeof toolRuleSchema>;

/** How the policy classifies the tools of third-party MCP servers (by exact name or glob). */
const upstreamRuleSchema = z
  .object(
    {
      effect: effectSchema,
      environment: text('an environment name').default('production'),
      resource: text('a resource family').optional(),
      idempotent: z.boolean({ invalid_type_error: 'expected true or false' }).default(false),
      // A read tool of the same server that counts what a call would touch (its blast radius):
      // `args` values of the form `$args.<path>` are taken from the call's own arguments.
      estimate: z
        .object(
          {
            tool: text('an upstream tool name'),
            args: z.record(z.string(), z.unknown(), { invalid_type_error: 'expected a map of argument to value or `$args.<path>`' }).default({}),
            count: text('a path in the result').optional(),
          },
          { invalid_type_error: 'expected `{ tool, args?, count? }`' },
        )
        .strict()
        .optional(),
    },
    { invalid_type_error: 'expected an upstream tool class `{ effect, environment?, resource?, idempotent?, estimate? }`' },
  )
  .strict();
export type UpstreamRule = z.output<typeof upstreamRuleSchema>;

/** A server name of the gateway configuration (`mcp.upstreams.<name>`): the prefix of its tools' names. */
const serverKey = z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, { message: 'expected a server name of lower-case letters, digits, `_` and `-`, starting with a letter' });
/** An anchored resource URI pattern (`policies/upstream-subjects.ts`): a scheme, then `*` (one segment) and `**` (any). */
const uriPatternSchema = text('a resource URI pattern').refine((p) => /^[A-Za-z][A-Za-z0-9+.-]*:/.test(p) && !/[\s\\]|\*{3}/.test(p), {
  message: 'expected a resource URI pattern with a scheme, without whitespace, `\\` or `***` (e.g. `file:///srv/docs/**`)',
});

const blockedEntrySchema = z.union(
  [text('a tool name or glob'), z.object({ tool: text('a tool name or glob'), mode: modeSchema.optional(), reason: z.string().optional() }).strict()],
  { errorMap: () => ({ message: 'expected a tool name or glob, or `{ tool, mode?, reason? }`' }) },
);

/** A session with nothing in flight and no call for this long ends (`idleMinutes`). */
export const DEFAULT_IDLE_MINUTES = 60;

/** What is always blocked when a document says nothing (and what `extends: defaults` keeps). */
export const DEFAULT_ALWAYS_BLOCKED = ['audit.*', 'iam.crossAccount*', 'kms.*'] as const;

const blockedListSchema = z.array(blockedEntrySchema, { invalid_type_error: 'expected a list of tool names or globs' });

/**
 * `alwaysBlocked`: a list (the whole list: it replaces the defaults), or `{ extends, add }`, which
 * says so explicitly: `extends: defaults` keeps `DEFAULT_ALWAYS_BLOCKED`, `extends: none` drops them.
 * Either way the normalised document holds the list, so equal meanings hash alike.
 */
const alwaysBlockedExtendsSchema = z
  .object({
    extends: z.enum(['defaults', 'none'], { errorMap: () => ({ message: 'expected `defaults` or `none`' }) }),
    add: blockedListSchema.default([]),
  }, { invalid_type_error: 'expected a list of tool names or globs, or `{ extends: defaults | none, add: [...] }`' })
  .strict();

// Dispatched on the shape, not a union, so a bad list entry keeps its own path and message.
const alwaysBlockedSchema = z.unknown().transform((value, ctx) => {
  const parsed = Array.isArray(value) ? blockedListSchema.safeParse(value) : alwaysBlockedExtendsSchema.safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue(issue as z.IssueData);
    return z.NEVER;
  }
  const data = parsed.data;
  if (Array.isArray(data)) return data;
  return data.extends === 'defaults' ? [...DEFAULT_ALWAYS_BLOCKED, ...data.add] : data.add;
});

const withinSchema = z
  .object(
    {
      steps: whole(1).optional(),
      // 0 switches the rule off, never what was meant: `policy check` and a production worker refuse it
      // (`loosening-warnings.ts`); the schema takes it, so a session recorded under one still verifies.
      minutes: ranged(0, 525_600, 'a number of minutes').optional(),
    },
    { invalid_type_error: 'expected `{ steps?, minutes? }`' },
  )
  .strict();

const pairSchema = z
  .object({ id: text('a rule id').optional(), from: text('a tool name or glob'), to: text('a tool name or glob'), within: withinSchema.optional(), mode: modeSchema.optional(), reason: z.string().optional() })
  .strict();
const sequenceSchema = z
  .object({
    id: text('a rule id').optional(),
    sequence: z.array(text('a tool name or glob'), { invalid_type_error: 'expected a list of tool names or globs' }).min(2, { message: 'expected at least 2 tools' }).max(16, { message: 'expected at most 16 tools' }),
    within: withinSchema.optional(),
    mode: modeSchema.optional(),
    reason: z.string().optional(),
  })
  .strict();
const transitionSchema = z.union([pairSchema, sequenceSchema], {
  errorMap: (issue, ctx) =>
    issue.code === 'invalid_union' ? { message: 'expected `{ from, to, within? }` or `{ sequence: [...], within? }`' } : { message: ctx.defaultError },
});


const approverRuleFields = {
  groups: z.array(text('a group name'), { invalid_type_error: 'expected a list of group names' }).min(1, { message: 'expected at least one group' }),
  approversRequired: whole(1).default(1),
  timeoutMinutes: ranged(0.01, 10_080, 'a number of minutes').default(15),
  escalateAfterMinutes: z.array(ranged(0, 10_080, 'a number of minutes'), { invalid_type_error: 'expected a list of minutes' }).optional(),
  channel: text('a channel name').default('#gatehouse-approvals'),
  fourEyes: z.boolean({ invalid_type_error: 'expected true or false' }).default(true),
};
const approverRuleSchema = z.object(approverRuleFields).strict();
export type ApproverRule = z.output<typeof approverRuleSchema>;
const matchedApproverRuleSchema = z
  .object({
    ...approverRuleFields,
    tools: z.array(text('a tool name or glob')).min(1, { message: 'expected at least one tool' }).optional(),
    effects: z.array(effectSchema).min(1, { message: 'expected at least one effect' }).optional(),
  })
  .strict();
export type MatchedApproverRule = z.output<typeof matchedApproverRuleSchema>;

const DEFAULT_APPROVER_RULE = { groups: ['on-call'], approversRequired: 1, timeoutMinutes: 15, channel: '#gatehouse-approvals', fourEyes: true };

/** The most reads `resourceWrites.afterReads` may name: the session state keeps that many times per resource. */
export const MAX_AFTER_READS = 100;

/**
 * `resourceWrites`: a write or destructive call to a resource family (a tool's `resource`) the
 * session read `afterReads` times (inside `within.minutes`, when given) needs approval
 * (`resource.read-then-write`). Optional, no default: documents without it keep their hash.
 */
const resourceWritesSchema = z
  .object(
    {
      afterReads: z
        .number({ invalid_type_error: `expected a whole number between 1 and ${MAX_AFTER_READS}` })
        .int({ message: `expected a whole number between 1 and ${MAX_AFTER_READS}` })
        .min(1, { message: `expected a whole number between 1 and ${MAX_AFTER_READS}` })
        .max(MAX_AFTER_READS, { message: `expected a whole number between 1 and ${MAX_AFTER_READS}` })
        .default(2),
      within: z.object({ minutes: ranged(1, 10_080, 'a number of minutes') }, { invalid_type_error: 'expected `{ minutes }`' }).strict().optional(),
      mode: modeSchema.optional(),
    },
    { invalid_type_error: 'expected `{ afterReads, within?: { minutes }, mode? }`' },
  )
  .strict();

/** The tier tables of a document that names none (the schema's defaults). */
export const DEFAULT_TIERS = {
  read: { default: 'autonomous' },
  write: { staging: 'autonomous', production: 'approval', default: 'approval' },
  destructive: { default: 'approval' },
} as const satisfies Record<Effect, Record<string, Tier>>;

/** The policy document schema. Every field has a default, so `{}` is a valid (default) policy. */
export const policyDocumentSchema = z
  .object(
    {
      version: z.literal(1, { errorMap: () => ({ message: 'expected `1`' }) }).default(1),
      name: text('a policy name').default('default'),
      description: z.string({ invalid_type_error: 'expected a string' }).optional(),
      mode: modeSchema.default('enforce'),
      tiers: z
        .object({
          read: tierMapSchema.default({ ...DEFAULT_TIERS.read }),
          write: tierMapSchema.default({ ...DEFAULT_TIERS.write }),
          destructive: tierMapSchema.default({ ...DEFAULT_TIERS.destructive }),
        })
        .strict()
        .default({}),
      alwaysBlocked: alwaysBlockedSchema.default([...DEFAULT_ALWAYS_BLOCKED]),
      tools: z.record(text('a tool name or glob'), toolRuleSchema, { invalid_type_error: 'expected a map of tool name to rule' }).default({}),
      // Optional (no default): documents without upstream tools keep the canonical form, and the hash, they had.
      upstreamTools: z.record(text('a tool name or glob'), upstreamRuleSchema, { invalid_type_error: 'expected a map of upstream tool name or glob to `{ effect, environment? }`' }).optional(),
      // Optional (no default), like `upstreamTools`: per server, the resources (anchored URI patterns)
      // and prompts (names or globs) an agent may list and read; a read is a `read` call of `<server>.resources/read`.
      upstreamResources: z
        .record(serverKey, z.array(uriPatternSchema, { invalid_type_error: 'expected a list of resource URI patterns' }).min(1, { message: 'expected at least one resource URI pattern' }), {
          invalid_type_error: 'expected a map of server name to resource URI patterns',
        })
        .optional(),
      upstreamPrompts: z
        .record(serverKey, z.array(text('a prompt name or glob'), { invalid_type_error: 'expected a list of prompt names or globs' }).min(1, { message: 'expected at least one prompt name or glob' }), {
          invalid_type_error: 'expected a map of server name to prompt names or globs',
        })
        .optional(),
      budget: z
        .object({
          windowMinutes: ranged(1, 10_080, 'a number of minutes').default(30),
          actions: whole(0).default(20),
          writes: whole(0).default(5),
          critical: whole(0).default(1),
          readOnlyAt: ranged(0.01, 1, 'a fraction').default(0.8),
          mode: modeSchema.optional(),
        })
        .strict()
        .default({}),
      costCap: z.object({ tokens: whole(0).default(1_000_000), mode: modeSchema.optional() }).strict().default({}),
      transitions: z.array(transitionSchema, { invalid_type_error: 'expected a list of transition rules' }).default([]),
      rateLimits: z
        .object({ perTool: rateSchema.default({ max: 100, perSeconds: 60 }), perSession: rateSchema.optional() })
        .strict()
        .default({}),
      intent: z
        .object({
          reviewBelow: ranged(0, 1, 'a score').default(0.55),
          decay: ranged(0.01, 1, 'a factor').default(0.8),
          mode: modeSchema.optional(),
          // Optional, no default, `false` dropped: documents without it (or with `false`) keep their hash.
          writesNeedWriteIntent: z
            .boolean({ invalid_type_error: 'expected true or false' })
            .optional()
            .transform((v) => (v === true ? true : undefined)),
        })
        .strict()
        .default({}),
      subAgents: z
        .object({ budgetShare: ranged(0, 1, 'a fraction').default(0.25), inheritTransitions: z.boolean({ invalid_type_error: 'expected true or false' }).default(true) })
        .strict()
        .default({}),
      approvers: z
        .object({
          groups: z.record(text('a group name'), z.array(text('an approver id'), { invalid_type_error: 'expected a list of approver ids' })).default({ 'on-call': [] }),
          default: approverRuleSchema.default(DEFAULT_APPROVER_RULE),
          rules: z.array(matchedApproverRuleSchema).default([]),
          transitionUnlock: approverRuleSchema.optional(),
        })
        .strict()
        .default({}),
      // Optional (no default), like `upstreamTools`: documents without them keep their hash.
      agent: crossSessionSchema.optional(),
      owner: crossSessionSchema.optional(),
      mandate: z.object({ effects: z.array(effectSchema).default(['read', 'write', 'destructive']), mode: modeSchema.optional() }).strict().default({}),
      resourceWrites: resourceWritesSchema.optional(),
      // Optional (no default), like `agent`: documents without it keep their hash. Absent: DEFAULT_IDLE_MINUTES.
      idleMinutes: ranged(0.05, 10_080, 'a number of minutes').optional(),
    },
    { invalid_type_error: 'expected a policy document (a map)' },
  )
  .strict()
  .superRefine((doc, ctx) => {
    // Approver rules must name groups that exist, with one escalation step per extra group.
    const known = new Set(Object.keys(doc.approvers.groups));
    const checkRule = (rule: ApproverRule, path: (string | number)[]) => {
      rule.groups.forEach((g, i) => {
        if (!known.has(g)) ctx.addIssue({ code: 'custom', path: [...path, 'groups', i], message: `unknown approver group \`${g}\`` });
      });
      const steps = rule.escalateAfterMinutes;
      if (steps === undefined) return;
      if (steps.length !== rule.groups.length - 1) {
        ctx.addIssue({ code: 'custom', path: [...path, 'escalateAfterMinutes'], message: `expected ${rule.groups.length - 1} escalation steps (one per group after the first)` });
      }
      steps.forEach((m, i) => {
        if (m >= rule.timeoutMinutes || (i > 0 && m <= (steps[i - 1] ?? 0))) {
          ctx.addIssue({ code: 'custom', path: [...path, 'escalateAfterMinutes', i], message: 'expected increasing minutes below `timeoutMinutes`' });
        }
      });
    };
    checkRule(doc.approvers.default, ['approvers', 'default']);
    doc.approvers.rules.forEach((r, i) => checkRule(r, ['approvers', 'rules', i]));
    if (doc.approvers.transitionUnlock) checkRule(doc.approvers.transitionUnlock, ['approvers', 'transitionUnlock']);
    // Transition ids must be unique: session state keys its progress by them.
    const ids = new Set<string>();
    doc.transitions.forEach((t, i) => {
      const id = transitionId(t, i);
      if (ids.has(id)) ctx.addIssue({ code: 'custom', path: ['transitions', i, 'id'], message: `duplicate transition id \`${id}\`` });
      ids.add(id);
    });
  });

/** A parsed, normalised policy document. */
export type PolicyDocument = z.output<typeof policyDocumentSchema>;
export type TransitionRuleDoc = PolicyDocument['transitions'][number];

/** The tools of a transition rule in order (a pair is a sequence of two). */
export function transitionSequence(rule: TransitionRuleDoc): readonly string[] {
  return 'sequence' in rule ? rule.sequence : [rule.from, rule.to];
}

/** A transition rule's id: its own, or its tools joined by ` -> `. */
export function transitionId(rule: TransitionRuleDoc, _index: number): string {
  return rule.id ?? transitionSequence(rule).join(' -> ');
}

/** Checked with the `u` flag, as `compile-args.ts` compiles it: a pattern only the looser syntax takes would fail every session start. */
function isRegExp(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}
