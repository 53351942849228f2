/**
 * Signed envelopes (DSSE's shape): `{ payloadType, payload, signatures: [{ keyid, sig }] }`, the
 * Ed25519 signature over PAE(payloadType, payload bytes), never over a re-serialisation of parsed
 * JSON. Verify first, then parse: until the signature checks, the payload is opaque bytes.
 *
 * Pure and deterministic (Ed25519 signing needs no randomness), so workflow code verifies with it
 * and a replay verifies the same way. Key generation, which does need randomness, lives in Node code.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { canonicalJson } from '../hash';
import { decodePublicKey, findKey, type KeyEntry, type Keyset } from './keyset';

/** The payload type of every Gatehouse decision envelope. */
export const DECISION_PAYLOAD_TYPE = 'application/vnd.gatehouse.decision+json';

export interface EnvelopeSignature {
  readonly keyid: string;
  /** base64 Ed25519 signature (64 bytes). */
  readonly sig: string;
}

export interface SignedEnvelope {
  readonly payloadType: string;
  /** base64 of the payload's bytes (canonical JSON, UTF-8). */
  readonly payload: string;
  readonly signatures: readonly EnvelopeSignature[];
}

/** Why an envelope was refused, in the fixed order the checks run. */
export type EnvelopeRefusal =
  | 'envelope.malformed'
  | 'envelope.payload-type'
  | 'envelope.unknown-key'
  | 'envelope.key-revoked'
  | 'envelope.key-expired'
  | 'envelope.bad-signature'
  | 'envelope.payload';

export type EnvelopeCheck =
  | { readonly ok: true; readonly key: KeyEntry; readonly payload: unknown; readonly payloadBytes: Uint8Array }
  | { readonly ok: false; readonly rule: EnvelopeRefusal; readonly message: string; readonly keyId?: string };

const encoder = { utf8: utf8ToBytes };

/** DSSE's pre-authentication encoding: `DSSEv1 <len(type)> <type> <len(body)> <body>`. */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = encoder.utf8(payloadType);
  const head = encoder.utf8(`DSSEv1 ${type.length} ${payloadType} ${payload.length} `);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

/** Signs `payload` (serialised as canonical JSON) with a raw 32-byte Ed25519 secret key. */
export function signEnvelope(payload: unknown, secretKey: Uint8Array, keyId: string, payloadType = DECISION_PAYLOAD_TYPE): SignedEnvelope {
  const bytes = encoder.utf8(canonicalJson(payload));
  const sig = ed25519.sign(pae(payloadType, bytes), secretKey);
  return { payloadType, payload: base64.encode(bytes), signatures: [{ keyid: keyId, sig: base64.encode(sig) }] };
}

function refuse(rule: EnvelopeRefusal, message: string, keyId?: string): EnvelopeCheck {
  return { ok: false, rule, message, ...(keyId !== undefined ? { keyId } : {}) };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Verifies an envelope against a keyset at time `now` (ms). Check order, fixed: shape → payload
 * type → key id known → key not revoked → key not past not-after → signature → payload is JSON.
 * Exactly one signature is accepted: "how many signers" is counted by the vote rule, per envelope.
 */
export function verifyEnvelope(envelope: unknown, keyset: Keyset, now: number, payloadType = DECISION_PAYLOAD_TYPE): EnvelopeCheck {
  if (!isRecord(envelope) || typeof envelope.payloadType !== 'string' || typeof envelope.payload !== 'string' || !Array.isArray(envelope.signatures)) {
    return refuse('envelope.malformed', 'expected a signed envelope `{ payloadType, payload, signatures }`');
  }
  if (envelope.signatures.length !== 1) return refuse('envelope.malformed', `expected exactly one signature, got ${envelope.signatures.length}`);
  const s = envelope.signatures[0] as unknown;
  if (!isRecord(s) || typeof s.keyid !== 'string' || typeof s.sig !== 'string') return refuse('envelope.malformed', 'a signature needs `keyid` and `sig` strings');
  if (envelope.payload.length > 64 * 1024) return refuse('envelope.malformed', 'the payload is over 64 KiB');
  if (envelope.payloadType !== payloadType) return refuse('envelope.payload-type', `expected payload type \`${payloadType}\`, got \`${envelope.payloadType.slice(0, 100)}\``);
  const key = findKey(keyset, s.keyid);
  if (!key) return refuse('envelope.unknown-key', `unknown key id \`${s.keyid.slice(0, 100)}\``, s.keyid);
  if (key.revoked) return refuse('envelope.key-revoked', `key \`${key.keyId}\` of \`${key.principal}\` is revoked`, key.keyId);
  if (key.notAfter !== undefined && now > Date.parse(key.notAfter)) {
    return refuse('envelope.key-expired', `key \`${key.keyId}\` of \`${key.principal}\` expired at ${key.notAfter}`, key.keyId);
  }
  let payloadBytes: Uint8Array;
  let sig: Uint8Array;
  try {
    payloadBytes = base64.decode(envelope.payload);
    sig = base64.decode(s.sig);
  } catch {
    return refuse('envelope.malformed', 'payload and signature must be base64', key.keyId);
  }
  const publicKey = decodePublicKey(key.publicKey);
  let valid = false;
  try {
    valid = publicKey !== undefined && sig.length === 64 && ed25519.verify(sig, pae(envelope.payloadType, payloadBytes), publicKey);
  } catch {
    valid = false;
  }
  if (!valid) return refuse('envelope.bad-signature', `the signature does not verify with key \`${key.keyId}\` of \`${key.principal}\``, key.keyId);
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(payloadBytes));
  } catch {
    return refuse('envelope.payload', 'the signed payload is not JSON', key.keyId);
  }
  return { ok: true, key, payload, payloadBytes };
}
