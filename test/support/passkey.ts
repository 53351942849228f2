/**
 * A software passkey for tests: makes a P-256 key, a key grant signed by a given Ed25519 key, and
 * WebAuthn assertions over a decision payload exactly as an authenticator and a browser make them
 * (clientDataJSON, authenticatorData with the rp id hash and flags, DER signature). What a forger
 * without a registrar key can build.
 */
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { base64, base64urlnopad } from '@scure/base';
import { secretKeyBytes, type SigningKey } from '../../client/trust/key-files';
import { canonicalJson } from '../../policies/hash';
import { KEY_GRANT_PAYLOAD_TYPE, p256KeyIdOf, signEnvelope, webAuthnChallenge, WEBAUTHN_DECISION_PAYLOAD_TYPE, type SignedEnvelope } from '../../policies/trust';

export interface SoftPasskey {
  readonly keyId: string;
  readonly grant: SignedEnvelope;
  /** A passkey envelope over `decision` (the key id filled in). */
  sign(decision: Record<string, unknown>): Record<string, unknown>;
}

export function softPasskey(principal: string, grantedBy: SigningKey, rp = { rpId: 'localhost', origin: 'http://localhost:1' }): SoftPasskey {
  const secret = p256.utils.randomSecretKey();
  const publicKey = p256.getPublicKey(secret, false);
  const keyId = p256KeyIdOf(publicKey);
  const now = Date.now();
  const grant = signEnvelope(
    { v: 1, kind: 'key-grant', keyId, principal, role: 'approver', publicKey: base64.encode(publicKey), credentialId: 'soft', rpId: rp.rpId, origin: rp.origin, inviteId: 'none', issuedAt: new Date(now).toISOString(), notAfter: new Date(now + 86_400_000).toISOString() },
    secretKeyBytes(grantedBy),
    grantedBy.keyId,
    KEY_GRANT_PAYLOAD_TYPE,
  );
  return {
    keyId,
    grant,
    sign(decision) {
      const bytes = utf8ToBytes(canonicalJson({ ...decision, keyId }));
      const clientData = utf8ToBytes(JSON.stringify({ type: 'webauthn.get', challenge: base64urlnopad.encode(webAuthnChallenge(bytes)), origin: rp.origin, crossOrigin: false }));
      const authData = new Uint8Array(37);
      authData.set(sha256(utf8ToBytes(rp.rpId)), 0);
      authData[32] = 0x05;
      const msg = new Uint8Array(69);
      msg.set(authData, 0);
      msg.set(sha256(clientData), 37);
      const sig = p256.sign(msg, secret, { format: 'der' });
      return {
        payloadType: WEBAUTHN_DECISION_PAYLOAD_TYPE,
        payload: base64.encode(bytes),
        signatures: [{ keyid: keyId, sig: base64.encode(sig), authenticatorData: base64.encode(authData), clientDataJSON: base64.encode(clientData) }],
        grant,
      };
    },
  };
}
