/**
 * The policy judges a call's arguments as proposed; the tool runs what its zod input schema makes of
 * them. So an input schema may check values but never change them: no `transform`, `preprocess`,
 * `coerce`, `catch` or `pipe` anywhere in it, and no string `trim`, `toLowerCase` or `toUpperCase`.
 * `defineTool` refuses a schema that would, naming where. A `default` is allowed (the operator chose
 * that value, not the agent), and published (`inputDefaults`): a bound on an argument the call leaves
 * out judges the default the tool runs with.
 */
import type { z } from 'zod';

type Def = { readonly typeName?: string } & Record<string, unknown>;

/** String checks that return another string than the one checked. */
const STRING_CHANGES: readonly string[] = ['trim', 'toLowerCase', 'toUpperCase'];

/** Where in `schema` a value could be changed (`transform at \`rows\``), or undefined when nowhere. */
export function valueChangingPart(schema: z.ZodTypeAny, path = '(root)', seen = new Set<unknown>()): string | undefined {
  if (seen.has(schema)) return undefined;
  seen.add(schema);
  const def = schema._def as Def;
  const at = (what: string) => `${what} at \`${path}\``;
  const inner = (s: unknown, p = path) => valueChangingPart(s as z.ZodTypeAny, p, seen);
  if (def.coerce === true) return at('coerce');
  switch (def.typeName) {
    case 'ZodString': {
      const change = ((def.checks as readonly { readonly kind?: string }[] | undefined) ?? []).find((c) => c.kind !== undefined && STRING_CHANGES.includes(c.kind));
      return change ? at(`string ${change.kind}`) : undefined;
    }
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

/** Deepest object nesting whose defaults are published. */
export const MAX_DEFAULT_DEPTH = 10;
/** Most defaults published for one tool: the table travels with every session's start. */
export const MAX_DEFAULTS = 500;

/**
 * The defaults a zod input schema fills in for arguments a call leaves out, by dotted path
 * (`limit`, `options.dryRun`), read once: the values `ToolInfo.argumentDefaults` publishes. An object
 * property's own defaults are published under it (they apply when the object is given, or is itself
 * defaulted); a default under `.optional()` is not (zod leaves a missing optional value missing).
 * Defaults inside lists, records, and union options that disagree are not published; nor are values
 * that are not plain JSON, and keys holding a `.` (no bound path can name them). A schema that
 * refers to itself is followed once along a path, at most `MAX_DEFAULT_DEPTH` deep and to
 * `MAX_DEFAULTS` entries (a default past them is not published: its bound judges the call as given).
 */
export function inputDefaults(schema: z.ZodTypeAny): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  collectDefaults(schema, '', out, 0, new Set());
  return out;
}

/**
 * Fills `out` with the defaults of the object properties under `schema`, their paths prefixed with
 * `prefix`; `onPath` holds the schemas being walked above it (a recursive schema is not entered again).
 */
function collectDefaults(schema: z.ZodTypeAny, prefix: string, out: Record<string, unknown>, depth: number, onPath: Set<z.ZodTypeAny>): void {
  if (depth > MAX_DEFAULT_DEPTH || onPath.has(schema) || Object.keys(out).length >= MAX_DEFAULTS) return;
  onPath.add(schema);
  try {
    const def = schema._def as Def;
    switch (def.typeName) {
      case 'ZodObject': {
        const shape = (schema as z.AnyZodObject).shape as Record<string, z.ZodTypeAny>;
        for (const [key, s] of Object.entries(shape)) {
          if (key.includes('.') || key === '__proto__') continue;
          const path = prefix === '' ? key : `${prefix}.${key}`;
          const { value, inner } = missingValue(s);
          if (value !== undefined && Object.keys(out).length < MAX_DEFAULTS) out[path] = value.v;
          if (inner) collectDefaults(inner, path, out, depth + 1, onPath);
        }
        return;
      }
      case 'ZodIntersection':
        collectDefaults(def.left as z.ZodTypeAny, prefix, out, depth, onPath);
        collectDefaults(def.right as z.ZodTypeAny, prefix, out, depth, onPath);
        return;
      case 'ZodUnion':
      case 'ZodDiscriminatedUnion': {
        // What the tool runs depends on the option the call matches: only defaults every option that has one agrees on.
        const each = [...((def.options as Iterable<z.ZodTypeAny>) ?? [])].map((o) => {
          const own: Record<string, unknown> = {};
          collectDefaults(o, '', own, depth, onPath);
          return own;
        });
        const keys = new Set(each.flatMap((d) => Object.keys(d)));
        for (const key of keys) {
          const values = each.filter((d) => Object.prototype.hasOwnProperty.call(d, key)).map((d) => JSON.stringify(d[key]));
          if (values.every((v) => v === values[0]) && Object.keys(out).length < MAX_DEFAULTS) out[prefix === '' ? key : `${prefix}.${key}`] = JSON.parse(values[0]!) as unknown;
        }
        return;
      }
      case 'ZodLazy':
        collectDefaults((def.getter as () => z.ZodTypeAny)(), prefix, out, depth, onPath);
        return;
      default: {
        const { inner } = missingValue(schema);
        if (inner && inner !== schema) collectDefaults(inner, prefix, out, depth, onPath);
      }
    }
  } finally {
    onPath.delete(schema);
  }
}

/**
 * What a property's schema makes of a missing value: its default (`{ v }`), if one applies before an
 * `.optional()` lets the value stay missing; and the schema under its wrappers, for nested properties.
 */
function missingValue(schema: z.ZodTypeAny): { value?: { v: unknown }; inner?: z.ZodTypeAny } {
  let s: z.ZodTypeAny = schema;
  let value: { v: unknown } | undefined;
  let missing = true;
  for (let hops = 0; hops < 32; hops++) {
    const def = s._def as Def;
    switch (def.typeName) {
      case 'ZodDefault': {
        if (missing && value === undefined) {
          const v = (def.defaultValue as () => unknown)();
          if (isPlainJson(v, 0)) value = { v };
          missing = false;
        }
        s = def.innerType as z.ZodTypeAny;
        continue;
      }
      case 'ZodOptional':
        // A missing value stays missing: a default under it never applies.
        missing = false;
        s = def.innerType as z.ZodTypeAny;
        continue;
      case 'ZodNullable':
      case 'ZodReadonly':
        s = def.innerType as z.ZodTypeAny;
        continue;
      case 'ZodBranded':
        s = def.type as z.ZodTypeAny;
        continue;
      case 'ZodEffects':
        s = def.schema as z.ZodTypeAny;
        continue;
      default:
        // A `z.lazy` is the inner schema too: its getter may build a new schema each time, so the
        // lazy itself is what `collectDefaults` recognises when a recursive schema comes round again.
        return { ...(value ? { value } : {}), inner: s };
    }
  }
  return value ? { value } : {};
}

/** True for a value JSON carries unchanged: null, booleans, finite numbers, strings, lists and plain objects of them. */
function isPlainJson(v: unknown, depth: number): boolean {
  if (depth > 32) return false;
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every((x) => isPlainJson(x, depth + 1));
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.values(v as Record<string, unknown>).every((x) => isPlainJson(x, depth + 1));
  return false;
}
