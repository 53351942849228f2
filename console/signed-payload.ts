/**
 * What every passkey-signed decision of the console shares (a vote, a resume, a budget raise): the
 * payload's canonical bytes and their digest as the WebAuthn challenge, shown on the page, and the
 * envelope assembled from the browser's assertion with the passkey's registrar grant — the shape
 * `checkSignedDecision` verifies in the console first and in workflow code after.
 */
import { randomBytes } from 'node:crypto';
import { base64, base64urlnopad } from '@scure/base';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalJson } from '../policies/hash';
import { webAuthnChallenge, WEBAUTHN_DECISION_PAYLOAD_TYPE } from '../policies/trust';
import { ConsoleError } from './errors';
import type { Person } from './sessions';
import type { ConsoleStore } from './store';

/** How long a prepared payload may wait for the person's touch. */
export const SIGN_TTL_MS = 5 * 60 * 1000;

export interface PreparedSignature {
  /** base64 of the canonical decision JSON: what the passkey signs (by its digest). */
  readonly payload: string;
  /** sha256(PAE(type, payload)), hex: shown on the page, and the WebAuthn challenge. */
  readonly digest: string;
  readonly decision: Record<string, unknown>;
  readonly options: { readonly challenge: string; readonly rpId: string; readonly allowCredentials: readonly { id: string; type: 'public-key' }[]; readonly userVerification: 'required'; readonly timeout: number };
}

/** The browser's assertion, as `@simplewebauthn/browser` returns it (base64url fields). */
export interface AssertionJSON {
  readonly id: string;
  readonly response: { readonly authenticatorData: string; readonly clientDataJSON: string; readonly signature: string };
}

const b64url = (s: unknown, what: string): Uint8Array => {
  try {
    if (typeof s !== 'string') throw new Error();
    return base64urlnopad.decode(s.replace(/=+$/, ''));
  } catch {
    throw new ConsoleError(400, 'assertion', `the passkey assertion's \`${what}\` is not base64url`);
  }
};

/** The decision's common fields for `person`, bound to one session. */
export function decisionHead(person: Person, kind: string, workflowId: string, firstRunId: string, now = Date.now()): Record<string, unknown> {
  return {
    v: 1,
    kind,
    workflowId,
    firstRunId,
    keyId: person.keyId,
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + SIGN_TTL_MS).toISOString(),
    nonce: randomBytes(16).toString('hex'),
  };
}

/** The payload to sign and the WebAuthn options whose challenge is its digest. */
export function prepareSignature(person: Person, decision: Record<string, unknown>, rpId: string): PreparedSignature {
  const bytes = utf8ToBytes(canonicalJson(decision));
  const challenge = webAuthnChallenge(bytes);
  return {
    payload: base64.encode(bytes),
    digest: bytesToHex(challenge),
    decision,
    options: { challenge: base64urlnopad.encode(challenge), rpId, allowCredentials: [{ id: person.credentialId, type: 'public-key' }], userVerification: 'required', timeout: 120_000 },
  };
}

/** The passkey envelope of a signed payload: the signed-in passkey's assertion and its grant. */
export async function passkeyEnvelope(store: ConsoleStore, person: Person, payload: unknown, assertion: AssertionJSON) {
  if (typeof payload !== 'string' || payload.length > 64 * 1024) throw new ConsoleError(400, 'payload', 'expected the prepared payload (base64)');
  if (!assertion || typeof assertion !== 'object' || assertion.id !== person.credentialId) throw new ConsoleError(400, 'assertion', 'the decision must be signed with the passkey you signed in with');
  const passkey = await store.passkey(person.credentialId);
  if (!passkey) throw new ConsoleError(401, 'unknown-passkey', 'this passkey is not enrolled here');
  return {
    payloadType: WEBAUTHN_DECISION_PAYLOAD_TYPE,
    payload,
    signatures: [
      {
        keyid: passkey.keyId,
        sig: base64.encode(b64url(assertion.response?.signature, 'signature')),
        authenticatorData: base64.encode(b64url(assertion.response?.authenticatorData, 'authenticatorData')),
        clientDataJSON: base64.encode(b64url(assertion.response?.clientDataJSON, 'clientDataJSON')),
      },
    ],
    grant: passkey.grant,
  };
}
