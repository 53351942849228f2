/**
 * The arguments a tool declares. A tool whose input schema lets unknown keys through (zod strips
 * them; an upstream's JSON Schema may allow them, and the upstream may act on them) must not let an
 * agent add one (`ticket: "1423"`) that names the intent's identifier and lifts an unrelated call,
 * nor hide one (`environment: "production"`) from the scope checks: the scorer scores the call as
 * sent and with only its declared arguments, and keeps the lower score. The same holds for an
 * argument named for the agent's words (a `reason`, a `note`), declared or not.
 */
import type { z } from 'zod';
import type { AnyToolDefinition } from '../tools/define';

/** The top-level argument names `def` declares; undefined when its input is not an object schema. */
export function declaredArguments(def: AnyToolDefinition): readonly string[] | undefined {
  if (def.declaredArguments) return def.declaredArguments;
  let schema = def.input as z.ZodTypeAny;
  // `.refine()` / `.superRefine()` wrap the object; the keys are the object's.
  while (schema._def?.typeName === 'ZodEffects') schema = (schema._def as { schema: z.ZodTypeAny }).schema;
  return schema._def?.typeName === 'ZodObject' ? Object.keys((schema as z.AnyZodObject).shape as object) : undefined;
}

/**
 * Last words of argument names that carry words the agent writes, not a selection: a declared
 * `reason: "1423"` is one word, so not prose by its length, and would otherwise earn the match
 * floor for an unrelated call.
 */
const NOTE_WORDS = new Set(['note', 'notes', 'reason', 'reasons', 'comment', 'comments', 'message', 'description', 'summary', 'memo', 'justification', 'explanation', 'rationale', 'remark', 'remarks']);

/** Whether an argument's name says it holds the agent's words (`reason`, `changeNote`, `commit_message`). */
export function isNoteArgument(key: string): boolean {
  const last = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/).filter(Boolean).at(-1);
  return last !== undefined && NOTE_WORDS.has(last);
}

/**
 * `args` with only what selects: the `declared` keys (all keys when the tool declares none) that
 * are not notes; undefined when that is all of them.
 */
export function selectingArgs(args: Readonly<Record<string, unknown>>, declared: readonly string[] | undefined): Readonly<Record<string, unknown>> | undefined {
  const kept = Object.entries(args).filter(([k]) => (declared === undefined || declared.includes(k)) && !isNoteArgument(k));
  return kept.length === Object.keys(args).length ? undefined : Object.fromEntries(kept);
}
