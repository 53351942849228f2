/**
 * Decisions signed with a passkey (WebAuthn, P-256), beside the Ed25519 envelopes of `envelope.ts`.
 *
 * A passkey reaches a session through a *key grant*: an Ed25519 envelope the console's `registrar`
 * key (in the keyset every session snapshots) signs when a person enrols from an invite. It names
 * the passkey's public key, the person and role, the relying party id and origin, and an expiry.
 * The vote carries its grant, so a key enrolled after a session started verifies in that session
 * and in `audit verify` with nothing but the snapshotted keyset.
 *
 * The WebAuthn challenge is sha256(PAE(payloadType, payload)): the digest of the decision payload,
 * which the console shows before the person touches the key. Verification here is the relying
 * party's (WebAuthn §7.2) for what a signed decision needs: clientDataJSON type, challenge and
 * origin; rpIdHash; user present and verified flags; the P-256 signature over
 * authenticatorData ‖ sha256(clientDataJSON). Pure and deterministic: workflow code calls it.
 */
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { base64, base64urlnopad } from '@scure/base';
import { z } from 'zod';
import { pae, verifyEnvelope, type EnvelopeCheck, type EnvelopeRefusal, type SignedEnvelope } from './envelope';
import { p256KeyIdOf, type KeyEntry, type Keyset } from './keyset';

/** The payload type of a decision signed with a passkey. */
export const WEBAUTHN_DECISION_PAYLOAD_TYPE = 'application/vnd.gatehouse.decision.webauthn+json';
/** The payload type of a registrar's key grant. */
export const KEY_GRANT_PAYLOAD_TYPE = 'application/vnd.gatehouse.key-grant+json';

/** One passkey signature: the assertion's parts, each base64. */
export interface WebAuthnSignature {
  readonly keyid: string;
  /** DER-encoded ECDSA signature, as the authenticator returns it. */
  readonly sig: string;
  readonly authenticatorData: string;
  readonly clientDataJSON: string;
}

/** A decision signed with a passkey, carrying the grant that makes the passkey a key. */
export interface WebAuthnEnvelope {
  readonly payloadType: typeof WEBAUTHN_DECISION_PAYLOAD_TYPE;
  /** base64 of the canonical decision JSON. */
  readonly payload: string;
  readonly signatures: readonly [WebAuthnSignature];
  readonly grant: SignedEnvelope;
}

const grantSchema = z
  .object({
    v: z.literal(1),
    kind: z.literal('key-grant'),
    keyId: z.string().regex(/^p256:[0-9a-f]{32}$/),
    principal: z.string().min(1).max(200),
    role: z.enum(['approver', 'operator']),
    /** The uncompressed P-256 point (65 bytes), base64. */
    publicKey: z.string().min(1).max(200),
    credentialId: z.string().min(1).max(1400),
    rpId: z.string().min(1).max(253),
    origin: z.string().min(1).max(300),
    inviteId: z.string().min(1).max(100),
    issuedAt: z.string().refine((s) => !Number.isNaN(Date.parse(s))),
    notAfter: z.string().refine((s) => !Number.isNaN(Date.parse(s))),
  })
  .strict();

export type KeyGrant = z.infer<typeof grantSchema>;

/** Why a passkey-signed envelope was refused (beside the Ed25519 envelope's own refusals). */
export type WebAuthnRefusal = EnvelopeRefusal | 'webauthn.grant' | 'webauthn.client-data' | 'webauthn.challenge' | 'webauthn.origin' | 'webauthn.rp-id' | 'webauthn.flags';


/** The WebAuthn challenge for a decision payload: sha256(PAE(payloadType, payload bytes)). */
export function webAuthnChallenge(payloadBytes: Uint8Array): Uint8Array {
  return sha256(pae(WEBAUTHN_DECISION_PAYLOAD_TYPE, payloadBytes));
}

/** True when `envelope` claims to be signed with a passkey (then only this module verifies it). */
export function isWebAuthnEnvelope(envelope: unknown): boolean {
  return typeof envelope === 'object' && envelope !== null && (envelope as { payloadType?: unknown }).payloadType === WEBAUTHN_DECISION_PAYLOAD_TYPE;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function decode(text: unknown): Uint8Array | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return base64.decode(text);
  } catch {
    return undefined;
  }
}

/** Checks a key grant: signed by a registrar of the keyset, well formed, not past its end. */
export function checkKeyGrant(grant: unknown, keyset: Keyset, now: number): { readonly ok: true; readonly grant: KeyGrant; readonly publicKey: Uint8Array } | { readonly ok: false; readonly rule: WebAuthnRefusal; readonly message: string; readonly keyId?: string } {
  const env = verifyEnvelope(grant, keyset, now, KEY_GRANT_PAYLOAD_TYPE);
  if (!env.ok) return { ok: false, rule: env.rule === 'envelope.payload-type' || env.rule === 'envelope.malformed' ? 'webauthn.grant' : env.rule, message: `the passkey's grant: ${env.message}` };
  if (env.key.role !== 'registrar') return { ok: false, rule: 'webauthn.grant', message: `the passkey's grant is signed by \`${env.key.principal}\`, which is no registrar` };
  const parsed = grantSchema.safeParse(env.payload);
  if (!parsed.success) return { ok: false, rule: 'webauthn.grant', message: `the passkey's grant is malformed: ${parsed.error.issues[0]?.path.join('.') ?? ''}` };
  const g = parsed.data;
  const publicKey = decode(g.publicKey);
  if (!publicKey || publicKey.length !== 65 || p256KeyIdOf(publicKey) !== g.keyId) {
    return { ok: false, rule: 'webauthn.grant', message: `the passkey's grant names key \`${g.keyId}\` but not its public key` };
  }
  if (now > Date.parse(g.notAfter)) return { ok: false, rule: 'envelope.key-expired', message: `passkey \`${g.keyId}\` of \`${g.principal}\` expired at ${g.notAfter}`, keyId: g.keyId };
  return { ok: true, grant: g, publicKey };
}

/**
 * Verifies a passkey-signed envelope at `now` (ms). Order, fixed: shape → the grant (registrar
 * signature, its payload, expiry) → signature key id = the grant's → a key of that id revoked in
 * the keyset → clientDataJSON type → challenge = digest of the payload → origin = the grant's →
 * rpIdHash = sha256(the grant's rp id) → user present and verified → P-256 signature → payload JSON.
 * The answer has the shape of `verifyEnvelope`'s, so `checkSignedDecision` goes on the same way.
 */
export function verifyWebAuthnEnvelope(envelope: unknown, keyset: Keyset, now: number): EnvelopeCheck | { readonly ok: false; readonly rule: WebAuthnRefusal; readonly message: string; readonly keyId?: string } {
  const refuse = (rule: WebAuthnRefusal, message: string, keyId?: string) => ({ ok: false as const, rule, message, ...(keyId !== undefined ? { keyId } : {}) });
  if (!isRecord(envelope) || envelope.payloadType !== WEBAUTHN_DECISION_PAYLOAD_TYPE || typeof envelope.payload !== 'string' || !Array.isArray(envelope.signatures)) {
    return refuse('envelope.malformed', 'expected a passkey-signed envelope `{ payloadType, payload, signatures, grant }`');
  }
  if (envelope.signatures.length !== 1) return refuse('envelope.malformed', `expected exactly one signature, got ${envelope.signatures.length}`);
  if (envelope.payload.length > 64 * 1024) return refuse('envelope.malformed', 'the payload is over 64 KiB');
  const s = envelope.signatures[0] as unknown;
  if (!isRecord(s) || typeof s.keyid !== 'string') return refuse('envelope.malformed', 'a passkey signature needs `keyid`, `sig`, `authenticatorData` and `clientDataJSON`');
  const sig = decode(s.sig);
  const authData = decode(s.authenticatorData);
  const clientDataBytes = decode(s.clientDataJSON);
  const payloadBytes = decode(envelope.payload);
  if (!sig || !authData || !clientDataBytes || !payloadBytes) return refuse('envelope.malformed', 'a passkey signature needs base64 `sig`, `authenticatorData` and `clientDataJSON`, and a base64 payload');
  const granted = checkKeyGrant(envelope.grant, keyset, now);
  if (!granted.ok) return granted;
  const g = granted.grant;
  if (s.keyid !== g.keyId) return refuse('envelope.unknown-key', `signed by \`${s.keyid.slice(0, 100)}\`, but the grant is for \`${g.keyId}\``, g.keyId);
  if (keyset.keys.some((k) => k.keyId === g.keyId && k.revoked)) return refuse('envelope.key-revoked', `passkey \`${g.keyId}\` of \`${g.principal}\` is revoked`, g.keyId);
  let clientData: unknown;
  try {
    clientData = JSON.parse(new TextDecoder().decode(clientDataBytes));
  } catch {
    return refuse('webauthn.client-data', 'clientDataJSON is not JSON', g.keyId);
  }
  if (!isRecord(clientData) || clientData.type !== 'webauthn.get') return refuse('webauthn.client-data', 'clientDataJSON is not of an assertion (`webauthn.get`)', g.keyId);
  if (clientData.challenge !== base64urlnopad.encode(webAuthnChallenge(payloadBytes))) {
    return refuse('webauthn.challenge', 'the passkey signed another payload than this envelope carries', g.keyId);
  }
  if (clientData.origin !== g.origin || clientData.crossOrigin === true) {
    return refuse('webauthn.origin', `signed on \`${String(clientData.origin).slice(0, 100)}\`, not on \`${g.origin}\``, g.keyId);
  }
  if (authData.length < 37 || bytesToHex(authData.slice(0, 32)) !== bytesToHex(sha256(utf8ToBytes(g.rpId)))) {
    return refuse('webauthn.rp-id', `the authenticator data is not for relying party \`${g.rpId}\``, g.keyId);
  }
  const flags = authData[32]!;
  // User present (bit 0) and user verified (bit 2): a person touched the key and unlocked it.
  if ((flags & 0x01) === 0 || (flags & 0x04) === 0) return refuse('webauthn.flags', 'the passkey did not verify a present user', g.keyId);
  const signed = new Uint8Array(authData.length + 32);
  signed.set(authData, 0);
  signed.set(sha256(clientDataBytes), authData.length);
  let valid = false;
  try {
    // ECDSA over sha256(authenticatorData ‖ sha256(clientDataJSON)); authenticators do not normalise s.
    valid = p256.verify(sig, signed, granted.publicKey, { format: 'der', lowS: false, prehash: true });
  } catch {
    valid = false;
  }
  const key: KeyEntry = { keyId: g.keyId, principal: g.principal, role: g.role, publicKey: g.publicKey, notAfter: g.notAfter, revoked: false };
  if (!valid) return refuse('envelope.bad-signature', `the passkey signature does not verify with \`${g.keyId}\` of \`${g.principal}\``, g.keyId);
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(payloadBytes));
  } catch {
    return refuse('envelope.payload', 'the signed payload is not JSON', g.keyId);
  }
  return { ok: true, key, payload, payloadBytes };
}
