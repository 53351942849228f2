/**
 * The size of a value's canonical JSON, for the proposal size cap the update validator enforces.
 * Workflow-safe (pure).
 */
import { canonicalJson } from '../policies/hash';

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
