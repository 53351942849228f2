/**
 * Blast-radius estimates by an upstream MCP read tool, for `prepareCall`: the policy names the
 * estimator (`upstreamTools.<tool>.estimate`, resolved by `policies/upstream.ts`), this runs it
 * without the ledger and reads the count. The count is the number at `count` in the result's
 * structured content (or the length of the list there); without `count`, the whole text content
 * read as a whole number. Any failure gives no estimate, never a guess: a policy that bounds the
 * blast radius then asks a human (`blast-radius.unknown`). Node-only.
 */
import { valueAtPath, type EstimateRequest } from '../../policies/upstream';
import type { ToolCatalog } from './catalog';
import { checkArgs } from './validate';

/** The count in an estimator's result, or `undefined` when there is none. */
export function countOf(result: unknown, path: string | undefined): number | undefined {
  const r = (result ?? {}) as { structuredContent?: unknown; content?: { type: string; text?: string }[] };
  let n: unknown;
  if (path !== undefined) {
    const v = valueAtPath(r.structuredContent, path);
    n = Array.isArray(v) ? v.length : v;
  } else {
    const text = (r.content ?? []).filter((c) => c.type === 'text').map((c) => c.text ?? '').join('').trim();
    n = /^\d+$/.test(text) ? Number(text) : undefined;
  }
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Runs the estimator (a tool of `server` in the catalog, with arguments valid for it) and reads the count. */
export async function estimateWithUpstream(catalog: ToolCatalog, server: string, req: EstimateRequest, signal: AbortSignal): Promise<number | undefined> {
  const def = catalog.get(req.tool);
  if (!def?.query || def.upstream?.server !== server) return undefined;
  if (!checkArgs(def, req.args).success) return undefined;
  try {
    return countOf(await def.query(req.args, signal), req.count);
  } catch {
    return undefined;
  }
}
