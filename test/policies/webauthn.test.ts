/**
 * Passkey-signed decisions (policies/trust/webauthn.ts) checked through `checkSignedDecision`: an
 * assertion made here exactly as an authenticator makes one (P-256 over authenticatorData ‖
 * sha256(clientDataJSON)) counts; every part an attacker would change is refused by its rule.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { base64, base64urlnopad } from '@scure/base';
import { generateSigningKey, keyEntryOf, secretKeyBytes } from '../../client/trust/key-files';
import { canonicalJson } from '../../policies/hash';
import {
  checkSignedDecision,
  KEY_GRANT_PAYLOAD_TYPE,
  p256KeyIdOf,
  parseKeyset,
  signEnvelope,
  webAuthnChallenge,
  WEBAUTHN_DECISION_PAYLOAD_TYPE,
  type Keyset,
} from '../../policies/trust';

const canonicalJsonBytes = (v: unknown): Uint8Array => utf8ToBytes(canonicalJson(v));

const now = Date.parse('2026-12-06T10:00:00Z');
const registrar = generateSigningKey('console', 'registrar');
const operator = generateSigningKey('ops', 'operator');
const keyset: Keyset = { development: false, keys: [keyEntryOf(registrar), keyEntryOf(operator)], slackUsers: [] };
const secret = p256.utils.randomSecretKey();
const publicKey = p256.getPublicKey(secret, false);
const keyId = p256KeyIdOf(publicKey);
const RP = 'localhost';
const ORIGIN = 'http://localhost:4000';

function grant(overrides: Record<string, unknown> = {}, signer = registrar) {
  return signEnvelope(
    { v: 1, kind: 'key-grant', keyId, principal: 'alice', role: 'approver', publicKey: base64.encode(publicKey), credentialId: 'cred-1', rpId: RP, origin: ORIGIN, inviteId: 'inv-1', issuedAt: new Date(now - 1000).toISOString(), notAfter: new Date(now + 86_400_000).toISOString(), ...overrides },
    secretKeyBytes(signer),
    signer.keyId,
    KEY_GRANT_PAYLOAD_TYPE,
  );
}

function vote(overrides: Record<string, unknown> = {}) {
  return { v: 1, kind: 'vote', workflowId: 'session-s1', firstRunId: 'run-1', keyId, issuedAt: new Date(now).toISOString(), expiresAt: new Date(now + 600_000).toISOString(), nonce: 'n'.repeat(32), approvalId: 's1:1', callDigest: 'a'.repeat(64), verdict: 'approve', ...overrides };
}

interface Assertion {
  payload?: unknown;
  signedPayload?: unknown;
  type?: string;
  origin?: string;
  rpId?: string;
  flags?: number;
  key?: Uint8Array;
  grantEnvelope?: unknown;
}

/** What the browser and authenticator produce for a decision payload. */
function assertion(a: Assertion = {}) {
  const payloadBytes = canonicalJsonBytes(a.payload ?? vote());
  const signedBytes = canonicalJsonBytes(a.signedPayload ?? a.payload ?? vote());
  const clientData = utf8ToBytes(JSON.stringify({ type: a.type ?? 'webauthn.get', challenge: base64urlnopad.encode(webAuthnChallenge(signedBytes)), origin: a.origin ?? ORIGIN, crossOrigin: false }));
  const authData = new Uint8Array(37);
  authData.set(sha256(utf8ToBytes(a.rpId ?? RP)), 0);
  authData[32] = a.flags ?? 0x05;
  const msg = new Uint8Array(authData.length + 32);
  msg.set(authData, 0);
  msg.set(sha256(clientData), authData.length);
  const sig = p256.sign(msg, a.key ?? secret, { format: 'der' });
  return {
    payloadType: WEBAUTHN_DECISION_PAYLOAD_TYPE,
    payload: base64.encode(payloadBytes),
    signatures: [{ keyid: keyId, sig: base64.encode(sig), authenticatorData: base64.encode(authData), clientDataJSON: base64.encode(clientData) }],
    grant: a.grantEnvelope ?? grant(),
  };
}

const binding = { kind: 'vote' as const, workflowId: 'session-s1', firstRunId: 'run-1', usedNonces: new Set<string>() };

function refusedBy(envelope: unknown, rule: string, used = binding.usedNonces): void {
  const r = checkSignedDecision(envelope, keyset, { ...binding, usedNonces: used }, now);
  assert.equal(r.ok, false, `expected a refusal by ${rule}`);
  if (!r.ok) assert.equal(r.rule, rule, r.message);
}

describe('passkey-signed decisions', () => {
  it('counts an assertion over the payload digest, by the granted person', () => {
    const r = checkSignedDecision(assertion(), keyset, binding, now);
    assert.equal(r.ok, true, r.ok ? '' : r.message);
    if (r.ok) {
      assert.equal(r.key.principal, 'alice');
      assert.equal(r.key.role, 'approver');
      assert.equal(r.decision.approvalId, 's1:1');
    }
  });

  it('refuses a payload changed after signing (the challenge is its digest)', () => {
    refusedBy(assertion({ payload: vote({ callDigest: 'b'.repeat(64) }), signedPayload: vote() }), 'webauthn.challenge');
  });

  it('refuses a replayed assertion by its nonce', () => {
    refusedBy(assertion(), 'decision.replayed', new Set(['n'.repeat(32)]));
  });

  it('refuses a grant not signed by a registrar, and one whose key is another', () => {
    refusedBy(assertion({ grantEnvelope: grant({}, operator) }), 'webauthn.grant');
    refusedBy(assertion({ grantEnvelope: grant({}, generateSigningKey('console', 'registrar')) }), 'envelope.unknown-key');
    const other = p256.getPublicKey(p256.utils.randomSecretKey(), false);
    refusedBy(assertion({ grantEnvelope: grant({ publicKey: base64.encode(other) }) }), 'webauthn.grant');
  });

  it('refuses an expired grant, a wrong origin, relying party, type or flags, and another key', () => {
    refusedBy(assertion({ grantEnvelope: grant({ notAfter: new Date(now - 1).toISOString() }) }), 'envelope.key-expired');
    refusedBy(assertion({ origin: 'http://evil.example' }), 'webauthn.origin');
    refusedBy(assertion({ rpId: 'evil.example' }), 'webauthn.rp-id');
    refusedBy(assertion({ type: 'webauthn.create' }), 'webauthn.client-data');
    refusedBy(assertion({ flags: 0x01 }), 'webauthn.flags');
    refusedBy(assertion({ key: p256.utils.randomSecretKey() }), 'envelope.bad-signature');
  });

  it('refuses a passkey the keyset lists as revoked, and a keyset entry whose id is not its key\'s', () => {
    const revoked = parseKeyset({ ...keyset, keys: [...keyset.keys, { keyId, principal: 'alice', role: 'approver', publicKey: base64.encode(publicKey), revoked: true }] });
    assert.equal(revoked.success, true);
    if (revoked.success) {
      const r = checkSignedDecision(assertion(), revoked.data, binding, now);
      assert.equal(r.ok ? '' : r.rule, 'envelope.key-revoked');
    }
    const wrong = parseKeyset({ ...keyset, keys: [{ keyId: 'p256:' + '0'.repeat(32), principal: 'alice', role: 'approver', publicKey: base64.encode(publicKey), revoked: true }] });
    assert.equal(wrong.success, false);
  });

  it('refuses a payload naming another key than the passkey, and an operator decision from an approver grant', () => {
    refusedBy(assertion({ payload: vote({ keyId: 'p256:' + '0'.repeat(32) }) }), 'decision.key-id');
    const r = checkSignedDecision(assertion(), keyset, { ...binding, kind: 'resume' }, now);
    assert.equal(r.ok, false);
  });
});
