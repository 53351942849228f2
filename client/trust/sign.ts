/**
 * Signs decisions for a session: fills in the key id, issued-at, expiry and a random nonce, then
 * signs the canonical payload (`policies/trust`). Used by the CLI (a person's key), the approvals
 * service (its own key, on a Slack person's behalf) and operators' commands. Node-only.
 */
import { randomBytes } from 'node:crypto';
import { signEnvelope, type SignedDecision, type SignedEnvelope } from '../../policies/trust';
import { secretKeyBytes, type SigningKey } from './key-files';

/** Default lifetime of a signed decision. */
export const DEFAULT_DECISION_TTL_MS = 10 * 60 * 1000;

type Filled = 'v' | 'keyId' | 'issuedAt' | 'expiresAt' | 'nonce';
/** The fields a caller chooses for each kind; key id, times and nonce are filled in. */
export type UnsignedDecision = SignedDecision extends infer D ? (D extends unknown ? Omit<D, Filled> : never) : never;

export interface SignOptions {
  /** @default Date.now() */
  readonly now?: number;
  /** @default 10 minutes */
  readonly ttlMs?: number;
}

export function signDecision(key: SigningKey, fields: UnsignedDecision, options: SignOptions = {}): SignedEnvelope {
  const now = options.now ?? Date.now();
  const payload = {
    ...fields,
    v: 1,
    keyId: key.keyId,
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + (options.ttlMs ?? DEFAULT_DECISION_TTL_MS)).toISOString(),
    nonce: randomBytes(16).toString('hex'),
  };
  return signEnvelope(payload, secretKeyBytes(key), key.keyId);
}
