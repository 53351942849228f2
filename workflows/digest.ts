/**
 * The digest that binds an approval to the exact call it was asked for: tool, canonical
 * arguments, the policy hash and the session state the decision saw. After a human approves, the
 * workflow recomputes it just before the call runs; any difference means the call does not run.
 * Workflow-safe (pure sha256 from `policies/hash`).
 */
import { canonicalJson, sha256Hex } from '../policies/hash';

export function callDigest(tool: string, args: unknown, policyHash: string, stateSeen: unknown): string {
  return sha256Hex(canonicalJson({ tool, args, policyHash, state: sha256Hex(canonicalJson(stateSeen)) }));
}

/** Bytes of a value's canonical JSON (UTF-8), for the proposal size cap. */
export function canonicalSize(value: unknown): number {
  const text = canonicalJson(value);
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
