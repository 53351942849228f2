/**
 * Argument checks shared by prepareCall and runTool: the size cap, then the tool's zod schema,
 * with zod's issues mapped to `{ code, path, message }` (path dotted, like `filter.customerId`).
 */
import type { z } from 'zod';
import type { AnyToolDefinition } from './define';
import type { ToolIssue } from './errors';

/** Upper bound of a call's arguments, serialised (a proposal bigger than this is refused unread). */
export const MAX_ARGS_BYTES = 64 * 1024;

export type ArgsCheck = { readonly success: true; readonly data: unknown } | { readonly success: false; readonly issues: readonly ToolIssue[] };

export function checkArgs(def: AnyToolDefinition, args: unknown): ArgsCheck {
  let bytes: number;
  try {
    bytes = Buffer.byteLength(JSON.stringify(args ?? null), 'utf8');
  } catch {
    return { success: false, issues: [{ code: 'not_json', path: '', message: 'arguments are not plain JSON' }] };
  }
  if (bytes > MAX_ARGS_BYTES) {
    return { success: false, issues: [{ code: 'too_large', path: '', message: `arguments are ${bytes} bytes: the limit is ${MAX_ARGS_BYTES}` }] };
  }
  const parsed = (def.input as z.ZodTypeAny).safeParse(args);
  if (parsed.success) return { success: true, data: parsed.data };
  return { success: false, issues: parsed.error.issues.map((i) => ({ code: i.code, path: i.path.join('.'), message: i.message.toLowerCase() })) };
}
