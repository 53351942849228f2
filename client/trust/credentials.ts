/**
 * Agent credentials: an EdDSA JWT (via `jose`) that an operator issues and the worker verifies.
 * It names the agent (`sub`), the owner it acts for, the policies its sessions may name, an expiry
 * and an id (`jti`); its header names the operator's key id. `agentId` and `owner` of a session
 * come from here, never from the agent's say-so. Revocation lives in PostgreSQL
 * (`audit/credentials.ts`); this module only signs and verifies. Node-only.
 */
import { randomUUID } from 'node:crypto';
import { base64, base64urlnopad } from '@scure/base';
import { SignJWT, errors as joseErrors, importJWK, jwtVerify, decodeProtectedHeader } from 'jose';
import { findKey, type Keyset } from '../../policies/trust';
import type { SigningKey } from './key-files';
import { AGENT_ID_PATTERN } from '../../policies/agent-id';

export const CREDENTIAL_TYPE = 'gatehouse-agent+jwt';
export const CREDENTIAL_AUDIENCE = 'gatehouse';

/** What a verified credential says. */
export interface AgentCredential {
  readonly agentId: string;
  readonly owner: string;
  /** Policy names the agent's sessions may name with `policyRef` (empty: the worker's default only). */
  readonly policies: readonly string[];
  readonly credentialId: string;
  readonly issuedAt: string;
  readonly expiresAt: string;
  /** Key id of the operator key that signed it. */
  readonly issuerKeyId: string;
  /** The one resource (RFC 8707) it is bound to, when issued through the gateway's OAuth consent: valid there only. */
  readonly resource?: string;
  /** The OAuth authorization request the operator consented to with it (`gatehouse mcp authorize`). */
  readonly oauthRequest?: string;
}

export interface IssueCredentialOptions {
  readonly agentId: string;
  readonly owner: string;
  readonly policies?: readonly string[];
  /** @default 30 days */
  readonly expiresInSeconds?: number;
  /** @default Date.now() */
  readonly now?: number;
  /** Bind it to one resource URL (an audience besides `gatehouse`) and the OAuth request it answers. */
  readonly oauth?: { readonly resource: string; readonly requestId: string };
}

export type CredentialRefusal = 'credential.missing' | 'credential.malformed' | 'credential.unknown-key' | 'credential.key' | 'credential.signature' | 'credential.expired' | 'credential.claims';

export type CredentialCheck =
  | { readonly ok: true; readonly credential: AgentCredential }
  | { readonly ok: false; readonly rule: CredentialRefusal; readonly message: string };

// Never a `/`: `<rootAgentId>/<name>` is a sub-agent's, derived from its root's credential.
const NAME = AGENT_ID_PATTERN;

/** Signs a credential with an operator key. */
export async function issueAgentCredential(operator: SigningKey, o: IssueCredentialOptions): Promise<{ token: string; credential: AgentCredential }> {
  if (operator.role !== 'operator') throw new Error(`agent credentials are signed with an operator key, not a key of role \`${operator.role}\``);
  if (!NAME.test(o.agentId)) throw new Error(`invalid agent id \`${o.agentId}\`: 1 to 120 letters, digits or \`._@:-\``);
  if (!NAME.test(o.owner)) throw new Error(`invalid owner \`${o.owner}\`: 1 to 120 letters, digits or \`._@:-\``);
  const now = Math.floor((o.now ?? Date.now()) / 1000);
  const exp = now + (o.expiresInSeconds ?? 30 * 24 * 3600);
  const jti = randomUUID();
  const key = await importJWK({ kty: 'OKP', crv: 'Ed25519', x: base64urlnopad.encode(base64.decode(operator.publicKey)), d: base64urlnopad.encode(base64.decode(operator.secretKey)) }, 'EdDSA');
  const token = await new SignJWT({ owner: o.owner, policies: [...(o.policies ?? [])], ...(o.oauth ? { oauth_request: o.oauth.requestId } : {}) })
    .setProtectedHeader({ alg: 'EdDSA', kid: operator.keyId, typ: CREDENTIAL_TYPE })
    .setSubject(o.agentId)
    .setAudience(o.oauth ? [CREDENTIAL_AUDIENCE, o.oauth.resource] : CREDENTIAL_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(key);
  return {
    token,
    credential: {
      agentId: o.agentId,
      owner: o.owner,
      policies: [...(o.policies ?? [])],
      credentialId: jti,
      issuedAt: new Date(now * 1000).toISOString(),
      expiresAt: new Date(exp * 1000).toISOString(),
      issuerKeyId: operator.keyId,
      ...(o.oauth ? { resource: o.oauth.resource, oauthRequest: o.oauth.requestId } : {}),
    },
  };
}

/**
 * Verifies a credential's signature and claims against the keyset's operator keys at `now` (ms).
 * Order: present → header readable → key known → key of role operator, not revoked, not expired →
 * signature, audience, type and expiry → claims well formed. Revocation is checked by the caller.
 */
export async function verifyAgentCredential(token: unknown, keyset: Keyset, now: number = Date.now()): Promise<CredentialCheck> {
  if (typeof token !== 'string' || token === '') return { ok: false, rule: 'credential.missing', message: 'no agent credential: set `GATEHOUSE_AGENT_TOKEN` to one issued by `gatehouse agents create`' };
  if (token.length > 8192) return { ok: false, rule: 'credential.malformed', message: 'the agent credential is over 8 KiB' };
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch {
    return { ok: false, rule: 'credential.malformed', message: 'the agent credential is not a JWT' };
  }
  const entry = kid ? findKey(keyset, kid) : undefined;
  if (!entry) return { ok: false, rule: 'credential.unknown-key', message: `the agent credential is signed by an unknown key \`${kid ?? '(none)'}\`` };
  if (entry.role !== 'operator') return { ok: false, rule: 'credential.key', message: `the agent credential is signed by a key of role \`${entry.role}\`, not an operator's` };
  if (entry.revoked) return { ok: false, rule: 'credential.key', message: `the agent credential's signing key \`${entry.keyId}\` is revoked` };
  if (entry.notAfter !== undefined && now > Date.parse(entry.notAfter)) return { ok: false, rule: 'credential.key', message: `the agent credential's signing key \`${entry.keyId}\` expired at ${entry.notAfter}` };
  let payload: Record<string, unknown>;
  try {
    const key = await importJWK({ kty: 'OKP', crv: 'Ed25519', x: base64urlnopad.encode(base64.decode(entry.publicKey)) }, 'EdDSA');
    const r = await jwtVerify(token, key, { algorithms: ['EdDSA'], audience: CREDENTIAL_AUDIENCE, typ: CREDENTIAL_TYPE, currentDate: new Date(now), requiredClaims: ['sub', 'exp', 'iat', 'jti'] });
    payload = r.payload as Record<string, unknown>;
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) return { ok: false, rule: 'credential.expired', message: 'the agent credential has expired' };
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) return { ok: false, rule: 'credential.signature', message: 'the agent credential\'s signature does not verify' };
    return { ok: false, rule: 'credential.claims', message: `the agent credential is not valid: ${err instanceof Error ? err.message : String(err)}` };
  }
  const { sub, owner, policies, jti, iat, exp, aud, oauth_request: oauthRequest } = payload;
  // `gatehouse` and at most one resource URL: a credential bound to a resource is valid there only (the gateway checks where).
  const resources = Array.isArray(aud) ? aud.filter((a) => a !== CREDENTIAL_AUDIENCE) : [];
  if (resources.length > 1 || !resources.every((r) => typeof r === 'string') || (oauthRequest !== undefined && typeof oauthRequest !== 'string')) {
    return { ok: false, rule: 'credential.claims', message: 'the agent credential names more than one resource or a malformed `oauth_request`' };
  }
  if (typeof sub !== 'string' || !NAME.test(sub) || typeof owner !== 'string' || !NAME.test(owner) || typeof jti !== 'string') {
    return { ok: false, rule: 'credential.claims', message: 'the agent credential lacks a valid `sub`, `owner` or `jti`' };
  }
  if (!Array.isArray(policies) || !policies.every((p) => typeof p === 'string')) return { ok: false, rule: 'credential.claims', message: 'the agent credential\'s `policies` must be a list of names' };
  return {
    ok: true,
    credential: {
      agentId: sub,
      owner,
      policies: policies as string[],
      credentialId: jti,
      issuedAt: new Date((iat as number) * 1000).toISOString(),
      expiresAt: new Date((exp as number) * 1000).toISOString(),
      issuerKeyId: entry.keyId,
      ...(resources[0] !== undefined ? { resource: resources[0] as string } : {}),
      ...(typeof oauthRequest === 'string' ? { oauthRequest } : {}),
    },
  };
}
