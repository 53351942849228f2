/**
 * A session's recorded tool catalog against the catalogs the deployment ran (`audit verify
 * --catalog`). Whoever writes a session's row writes its catalog too, and the tier of every call
 * is derived from the effect the catalog gives its tool: a `billing.deleteRecords` recorded as a
 * `read` makes its unapproved run look allowed. So a built-in tool must be recorded as one of the
 * deployment's catalogs defines it (effect, environment, resource), and a built-in tool none of
 * them defines was never one the deployment could run. Upstream tools are classified by the
 * session's policy, which `--policy` checks; their recorded hints only ever raise.
 *
 * Pure: the same catalogs always give the same messages.
 */
import type { ToolInfo } from '../policies/types';

/** Each recorded built-in tool that none of the known catalogs defines as recorded, said in one sentence. */
export function catalogMismatches(recorded: readonly ToolInfo[], known: readonly ToolInfo[]): string[] {
  const byName = new Map<string, ToolInfo[]>();
  for (const k of known) byName.set(k.name, [...(byName.get(k.name) ?? []), k]);
  const out: string[] = [];
  for (const r of recorded) {
    const versions = byName.get(r.name) ?? [];
    if (r.upstream) {
      // A built-in tool's name recorded as an upstream one would be classified by the policy's globs instead.
      if (versions.some((k) => !k.upstream)) out.push(`\`${r.name}\` is recorded as an upstream tool; the deployment's catalog defines it as a ${versions[0]!.effect} tool of its own`);
      continue;
    }
    if (versions.length === 0) {
      out.push(`\`${r.name}\` is recorded as a ${r.effect} tool, and no catalog given to verify against defines it`);
    } else if (!versions.some((k) => !k.upstream && k.effect === r.effect && k.environment === r.environment && k.resource === r.resource)) {
      const k = versions[0]!;
      out.push(`\`${r.name}\` is recorded as ${r.effect} in ${r.environment} (${r.resource}); the deployment's catalog defines it as ${k.effect} in ${k.environment} (${k.resource})`);
    }
  }
  return out;
}
