/** The policy document's `agent:` and `owner:` sections (see the schema's comment below). */
import { z } from 'zod';
import { effectSchema, modeSchema, ranged, text, whole } from './document-fields';

/**
 * Cross-session rules (`agent:` and `owner:`): budgets and forbidden transitions counted over every
 * session of one agent (its credential's agent) or one owner, by the ledger workflow. Windows are
 * required: the ledger keeps only what a window needs, so a rule without one would grow forever.
 * A budget counts a call whose tool `tools` names (exact or glob) or whose effect `effects` lists
 * ("every write" without listing the catalog); both optional, no default (a document without
 * `effects` keeps its hash), at least one required.
 */
const crossBudgetSchema = z
  .object(
    {
      id: text('a rule id').optional(),
      tools: z.array(text('a tool name or glob'), { invalid_type_error: 'expected a list of tool names or globs' }).min(1, { message: 'expected at least one tool' }).optional(),
      effects: z.array(effectSchema, { invalid_type_error: 'expected a list of effects' }).min(1, { message: 'expected at least one effect' }).optional(),
      max: whole(0),
      windowMinutes: ranged(1, 10_080, 'a number of minutes'),
      mode: modeSchema.optional(),
      reason: z.string().optional(),
    },
    { invalid_type_error: 'expected a budget `{ tools?, effects?, max, windowMinutes }`' },
  )
  .strict()
  .refine((b) => b.tools !== undefined || b.effects !== undefined, { message: 'expected `tools`, `effects` or both: the calls the budget counts', path: ['tools'] });
const crossTransitionSchema = z
  .object(
    {
      id: text('a rule id').optional(),
      from: text('a tool name or glob'),
      to: text('a tool name or glob'),
      within: z.object({ minutes: ranged(1, 10_080, 'a number of minutes') }, { invalid_type_error: 'expected `{ minutes }`', required_error: 'expected `within: { minutes }`' }).strict(),
      mode: modeSchema.optional(),
      reason: z.string().optional(),
    },
    { invalid_type_error: 'expected a transition `{ from, to, within: { minutes } }`' },
  )
  .strict();
export const crossSessionSchema = z
  .object(
    {
      budgets: z.array(crossBudgetSchema, { invalid_type_error: 'expected a list of budgets' }).default([]),
      transitions: z.array(crossTransitionSchema, { invalid_type_error: 'expected a list of transition rules' }).default([]),
    },
    { invalid_type_error: 'expected `{ budgets?, transitions? }`' },
  )
  .strict();
export type CrossSessionDoc = z.output<typeof crossSessionSchema>;
export type CrossBudgetDoc = CrossSessionDoc['budgets'][number];
export type CrossTransitionDoc = CrossSessionDoc['transitions'][number];
