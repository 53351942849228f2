/**
 * The arguments a tool declares. A tool whose input schema lets unknown keys through (zod strips
 * them; an upstream's JSON Schema may allow them, and the upstream may act on them) must not let an
 * agent add one (`ticket: "1423"`) that names the intent's identifier and lifts an unrelated call,
 * nor hide one (`environment: "production"`) from the scope checks: the scorer scores the call as
 * sent and with only its declared arguments, and keeps the lower score.
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

/** `args` with only the `declared` keys. */
export function onlyDeclared(args: Readonly<Record<string, unknown>>, declared: readonly string[]): Readonly<Record<string, unknown>> {
  return Object.fromEntries(Object.entries(args).filter(([k]) => declared.includes(k)));
}
