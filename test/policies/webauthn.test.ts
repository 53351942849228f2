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
  DECISION_PAYLOAD_TYPE,
  KEY_GRANT_PAYLOAD_TYPE,
  p256KeyIdOf,
  parseKeyset,
  signEnvelope,
  verifyWebAuthnEnvelope,
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
  /** raw payload bytes (instead of `payload`'s canonical JSON) */
  payloadBytes?: Uint8Array;
  signedPayload?: unknown;
  type?: string;
  origin?: string;
  crossOrigin?: boolean;
  /** raw clientDataJSON bytes (instead of the one built from type, challenge and origin) */
  clientData?: Uint8Array;
  rpId?: string;
  /** raw authenticator data (instead of rpIdHash ‖ flags ‖ a zero counter) */
  authData?: Uint8Array;
  flags?: number;
  key?: Uint8Array;
  keyid?: string;
  /** the signature with s replaced by n - s (authenticators do not normalise s) */
  highS?: boolean;
  grantEnvelope?: unknown;
}

/** What the browser and authenticator produce for a decision payload. */
function assertion(a: Assertion = {}) {
  const payloadBytes = a.payloadBytes ?? canonicalJsonBytes(a.payload ?? vote());
  const signedBytes = a.payloadBytes ?? canonicalJsonBytes(a.signedPayload ?? a.payload ?? vote());
  const clientData = a.clientData ?? utf8ToBytes(JSON.stringify({ type: a.type ?? 'webauthn.get', challenge: base64urlnopad.encode(webAuthnChallenge(signedBytes)), origin: a.origin ?? ORIGIN, crossOrigin: a.crossOrigin ?? false }));
  let authData = a.authData;
  if (!authData) {
    authData = new Uint8Array(37);
    authData.set(sha256(utf8ToBytes(a.rpId ?? RP)), 0);
    authData[32] = a.flags ?? 0x05;
  }
  const msg = new Uint8Array(authData.length + 32);
  msg.set(authData, 0);
  msg.set(sha256(clientData), authData.length);
  let sig = p256.sign(msg, a.key ?? secret, { format: 'der' });
  if (a.highS) {
    const s = p256.Signature.fromBytes(sig, 'der');
    sig = (s.hasHighS() ? s : new p256.Signature(s.r, p256.Point.CURVE().n - s.s)).toBytes('der');
  }
  return {
    payloadType: WEBAUTHN_DECISION_PAYLOAD_TYPE,
    payload: base64.encode(payloadBytes),
    signatures: [{ keyid: a.keyid ?? keyId, sig: base64.encode(sig), authenticatorData: base64.encode(authData), clientDataJSON: base64.encode(clientData) }],
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

/** The exact refusal of `verifyWebAuthnEnvelope` at `now`. */
function refusal(envelope: unknown, ks: Keyset = keyset, at = now): unknown {
  const r = verifyWebAuthnEnvelope(envelope, ks, at);
  return r.ok ? { ok: true } : r;
}
const no = (rule: string, message: string) => ({ ok: false, rule, message });
const noKey = (rule: string, message: string) => ({ ok: false, rule, message, keyId });

describe('the verification order of a passkey-signed envelope, each refusal word for word', () => {
  it('the payload types are the contract with the console and clients: spelled out, not imported', () => {
    assert.equal(WEBAUTHN_DECISION_PAYLOAD_TYPE, 'application/vnd.gatehouse.decision.webauthn+json');
    assert.equal(KEY_GRANT_PAYLOAD_TYPE, 'application/vnd.gatehouse.key-grant+json');
  });

  it('accepts a good assertion: the granted key (never revoked), the payload and its bytes; a high-s signature too', () => {
    const payloadBytes = canonicalJsonBytes(vote());
    const r = verifyWebAuthnEnvelope(assertion(), keyset, now);
    assert.deepEqual(r, { ok: true, key: { keyId, principal: 'alice', role: 'approver', publicKey: base64.encode(publicKey), notAfter: new Date(now + 86_400_000).toISOString(), revoked: false }, payload: vote(), payloadBytes });
    assert.equal(verifyWebAuthnEnvelope(assertion({ highS: true }), keyset, now).ok, true, 'authenticators do not normalise s');
  });

  it('1 shape: not a passkey envelope, not exactly one signature, over 64 KiB, a bad signature entry, not base64', () => {
    const good = assertion();
    const shape = no('envelope.malformed', 'expected a passkey-signed envelope `{ payloadType, payload, signatures, grant }`');
    assert.deepEqual(refusal(null), shape);
    assert.deepEqual(refusal(Object.assign([], good)), shape, 'an array carrying the fields is no envelope');
    assert.deepEqual(refusal({ ...good, payloadType: DECISION_PAYLOAD_TYPE }), shape);
    assert.deepEqual(refusal({ ...good, payload: 1 }), shape);
    assert.deepEqual(refusal({ ...good, signatures: 'x' }), shape);
    assert.deepEqual(refusal({ ...good, signatures: [good.signatures[0], good.signatures[0]] }), no('envelope.malformed', 'expected exactly one signature, got 2'));
    assert.deepEqual(refusal({ ...good, payload: 'A'.repeat(64 * 1024 + 4) }), no('envelope.malformed', 'the payload is over 64 KiB'));
    // 64 KiB exactly is not too large: it goes on, and fails where its bytes are checked.
    assert.deepEqual(refusal({ ...good, payload: 'A'.repeat(64 * 1024) }), noKey('webauthn.challenge', 'the passkey signed another payload than this envelope carries'));
    const entry = no('envelope.malformed', 'a passkey signature needs `keyid`, `sig`, `authenticatorData` and `clientDataJSON`');
    assert.deepEqual(refusal({ ...good, signatures: [null] }), entry);
    assert.deepEqual(refusal({ ...good, signatures: [Object.assign([], good.signatures[0])] }), entry);
    assert.deepEqual(refusal({ ...good, signatures: [{ ...good.signatures[0], keyid: 1 }] }), entry);
    const b64 = no('envelope.malformed', 'a passkey signature needs base64 `sig`, `authenticatorData` and `clientDataJSON`, and a base64 payload');
    for (const field of ['sig', 'authenticatorData', 'clientDataJSON']) assert.deepEqual(refusal({ ...good, signatures: [{ ...good.signatures[0], [field]: '!!!' }] }), b64, field);
    assert.deepEqual(refusal({ ...good, signatures: [{ ...good.signatures[0], sig: 7 }] }), b64);
    assert.deepEqual(refusal({ ...good, payload: '!!!' }), b64);
  });

  it('2 the grant: an envelope of the key-grant type, signed by a registrar, well formed, naming its public key, not past its end', () => {
    assert.deepEqual(refusal({ ...assertion(), grant: null }), no('webauthn.grant', "the passkey's grant: expected a signed envelope `{ payloadType, payload, signatures }`"));
    const asDecision = signEnvelope(JSON.parse(new TextDecoder().decode(base64.decode(grant().payload))), secretKeyBytes(registrar), registrar.keyId, DECISION_PAYLOAD_TYPE);
    assert.deepEqual(refusal(assertion({ grantEnvelope: asDecision })), no('webauthn.grant', `the passkey's grant: expected payload type \`${KEY_GRANT_PAYLOAD_TYPE}\`, got \`${DECISION_PAYLOAD_TYPE}\``));
    const stranger = generateSigningKey('console', 'registrar');
    assert.deepEqual(refusal(assertion({ grantEnvelope: grant({}, stranger) })), no('envelope.unknown-key', `the passkey's grant: unknown key id \`${stranger.keyId}\``));
    assert.deepEqual(refusal(assertion({ grantEnvelope: grant({}, operator) })), no('webauthn.grant', "the passkey's grant is signed by `ops`, which is no registrar"));
    assert.deepEqual(refusal(assertion({ grantEnvelope: grant({ role: 'admin' }) })), no('webauthn.grant', "the passkey's grant is malformed: role"));
    assert.deepEqual(refusal(assertion({ grantEnvelope: grant({ keyId: `x${keyId}` }) })), no('webauthn.grant', "the passkey's grant is malformed: keyId"), 'the key id is anchored');
    const root = signEnvelope([], secretKeyBytes(registrar), registrar.keyId, KEY_GRANT_PAYLOAD_TYPE);
    assert.deepEqual(refusal(assertion({ grantEnvelope: root })), no('webauthn.grant', "the passkey's grant is malformed: "));
    const notItsKey = (id: string) => no('webauthn.grant', `the passkey's grant names key \`${id}\` but not its public key`);
    assert.deepEqual(refusal(assertion({ grantEnvelope: grant({ publicKey: '!!!' }) })), notItsKey(keyId));
    const other = p256.getPublicKey(p256.utils.randomSecretKey(), false);
    assert.deepEqual(refusal(assertion({ grantEnvelope: grant({ publicKey: base64.encode(other) }) })), notItsKey(keyId));
    // A compressed point verifies the same signature, but a grant names the 65-byte point only.
    const compressed = p256.getPublicKey(secret, true);
    const cId = p256KeyIdOf(compressed);
    assert.deepEqual(refusal(assertion({ keyid: cId, payload: vote({ keyId: cId }), grantEnvelope: grant({ keyId: cId, publicKey: base64.encode(compressed) }) })), notItsKey(cId));
    // At its notAfter instant the grant still holds; a millisecond later it does not.
    const end = new Date(now).toISOString();
    assert.equal(verifyWebAuthnEnvelope(assertion({ grantEnvelope: grant({ notAfter: end }) }), keyset, now).ok, true);
    assert.deepEqual(refusal(assertion({ grantEnvelope: grant({ notAfter: end }) }), keyset, now + 1), noKey('envelope.key-expired', `passkey \`${keyId}\` of \`alice\` expired at ${end}`));
  });

  it('3 the signature\'s key id is the grant\'s, quoted up to 100 characters', () => {
    assert.deepEqual(refusal(assertion({ keyid: 'k'.repeat(150) })), noKey('envelope.unknown-key', `signed by \`${'k'.repeat(100)}\`, but the grant is for \`${keyId}\``));
  });

  it('4 a passkey the keyset revokes is refused; another revoked key is not this one', () => {
    const entry = { keyId, principal: 'alice', role: 'approver' as const, publicKey: base64.encode(publicKey), revoked: true };
    assert.deepEqual(refusal(assertion(), { ...keyset, keys: [...keyset.keys, entry] }), noKey('envelope.key-revoked', `passkey \`${keyId}\` of \`alice\` is revoked`));
    assert.equal(verifyWebAuthnEnvelope(assertion(), { ...keyset, keys: [...keyset.keys, { ...keyEntryOf(generateSigningKey('gone', 'approver')), revoked: true }] }, now).ok, true);
    assert.equal(verifyWebAuthnEnvelope(assertion(), { ...keyset, keys: [...keyset.keys, { ...entry, revoked: false }] }, now).ok, true);
  });

  it('5 clientDataJSON: JSON, of an assertion', () => {
    assert.deepEqual(refusal(assertion({ clientData: utf8ToBytes('{not json') })), noKey('webauthn.client-data', 'clientDataJSON is not JSON'));
    const notGet = noKey('webauthn.client-data', 'clientDataJSON is not of an assertion (`webauthn.get`)');
    assert.deepEqual(refusal(assertion({ type: 'webauthn.create' })), notGet);
    assert.deepEqual(refusal(assertion({ clientData: utf8ToBytes('null') })), notGet);
  });

  it('6 the challenge is the digest of the payload this envelope carries', () => {
    assert.deepEqual(refusal(assertion({ payload: vote({ verdict: 'deny' }), signedPayload: vote() })), noKey('webauthn.challenge', 'the passkey signed another payload than this envelope carries'));
  });

  it('7 the origin is the grant\'s, never cross-origin, quoted up to 100 characters', () => {
    assert.deepEqual(refusal(assertion({ origin: 'http://evil.example' })), noKey('webauthn.origin', `signed on \`http://evil.example\`, not on \`${ORIGIN}\``));
    assert.deepEqual(refusal(assertion({ crossOrigin: true })), noKey('webauthn.origin', `signed on \`${ORIGIN}\`, not on \`${ORIGIN}\``));
    const long = `http://${'e'.repeat(150)}`;
    assert.deepEqual(refusal(assertion({ origin: long })), noKey('webauthn.origin', `signed on \`${long.slice(0, 100)}\`, not on \`${ORIGIN}\``));
  });

  it('8 the authenticator data is for the grant\'s relying party, and long enough to carry the flags', () => {
    const rp = noKey('webauthn.rp-id', `the authenticator data is not for relying party \`${RP}\``);
    assert.deepEqual(refusal(assertion({ rpId: 'evil.example' })), rp);
    assert.deepEqual(refusal(assertion({ authData: sha256(utf8ToBytes(RP)) })), rp, 'the rp id hash alone, no flags');
  });

  it('9 user present and user verified, both', () => {
    const flags = noKey('webauthn.flags', 'the passkey did not verify a present user');
    for (const f of [0x00, 0x01, 0x04]) assert.deepEqual(refusal(assertion({ flags: f })), flags, `flags ${f}`);
    assert.equal(verifyWebAuthnEnvelope(assertion({ flags: 0x45 }), keyset, now).ok, true, 'other flags do not matter');
  });

  it('10 the P-256 signature over authenticatorData ‖ sha256(clientDataJSON), by the granted key', () => {
    const bad = noKey('envelope.bad-signature', `the passkey signature does not verify with \`${keyId}\` of \`alice\``);
    assert.deepEqual(refusal(assertion({ key: p256.utils.randomSecretKey() })), bad);
    const good = assertion();
    assert.deepEqual(refusal({ ...good, signatures: [{ ...good.signatures[0], sig: base64.encode(new Uint8Array(64).fill(1)) }] }), bad, 'not DER');
  });

  it('11 the signed payload is JSON', () => {
    assert.deepEqual(refusal(assertion({ payloadBytes: utf8ToBytes('{not json') })), noKey('envelope.payload', 'the signed payload is not JSON'));
  });
});
