/**
 * The hash function of the chain: sha256 (node:crypto, Node-side) over the shared canonical JSON
 * of `policies/hash.ts`. The canonical form must never change, or recorded chains stop verifying.
 */
import { createHash } from 'node:crypto';

export { canonicalJson } from '../policies/hash';

/** sha256 of UTF-8 text, lower-case hex (the same digest as `policies/hash.ts`, natively). */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
