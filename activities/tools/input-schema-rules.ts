/**
 * The policy judges a call's arguments as proposed; the tool runs what its zod input schema makes of
 * them. So an input schema may check values but never change them: no `transform`, `preprocess`,
 * `coerce`, `catch` or `pipe` anywhere in it (a `default` is allowed: the operator chose that value,
 * not the agent). `defineTool` refuses a schema that would, naming where.
 */
import type { z } from 'zod';

type Def = { readonly typeName?: string } & Record<string, unknown>;

/** Where in `schema` a value could be changed (`transform at \`rows\``), or undefined when nowhere. */
export function valueChangingPart(schema: z.ZodTypeAny, path = '(root)', seen = new Set<unknown>()): string | undefined {
  if (seen.has(schema)) return undefined;
  seen.add(schema);
  const def = schema._def as Def;
  const at = (what: string) => `${what} at \`${path}\``;
  const inner = (s: unknown, p = path) => valueChangingPart(s as z.ZodTypeAny, p, seen);
  if (def.coerce === true) return at('coerce');
  switch (def.typeName) {
    case 'ZodEffects': {
      const effect = (def.effect as { type?: string } | undefined)?.type;
      if (effect === 'transform' || effect === 'preprocess') return at(effect);
      return inner(def.schema);
    }
    case 'ZodCatch':
      return at('catch');
    case 'ZodPipeline':
      return at('pipe');
    case 'ZodObject': {
      const shape = (schema as z.AnyZodObject).shape as Record<string, z.ZodTypeAny>;
      for (const [key, s] of Object.entries(shape)) {
        const found = inner(s, path === '(root)' ? key : `${path}.${key}`);
        if (found) return found;
      }
      return def.catchall ? inner(def.catchall, `${path}.*`) : undefined;
    }
    case 'ZodArray':
      return inner(def.type, `${path}[]`);
    case 'ZodSet':
      return inner(def.valueType, `${path}[]`);
    case 'ZodRecord':
    case 'ZodMap':
      return inner(def.valueType, `${path}.*`);
    case 'ZodTuple':
      return [...((def.items as unknown[]) ?? []), ...(def.rest ? [def.rest] : [])].map((s, i) => inner(s, `${path}[${i}]`)).find(Boolean);
    case 'ZodUnion':
    case 'ZodDiscriminatedUnion':
      return [...((def.options as Iterable<unknown>) ?? [])].map((s) => inner(s)).find(Boolean);
    case 'ZodIntersection':
      return inner(def.left) ?? inner(def.right);
    case 'ZodOptional':
    case 'ZodNullable':
    case 'ZodDefault':
    case 'ZodReadonly':
      return inner(def.innerType);
    case 'ZodBranded':
      return inner(def.type);
    case 'ZodLazy':
      return inner((def.getter as () => unknown)());
    default:
      return undefined;
  }
}
