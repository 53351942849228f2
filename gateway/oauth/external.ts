/**
 * An external authorization server (`GATEHOUSE_OAUTH_ISSUER`): its access tokens are JWTs verified
 * with `jose` against the JWKS its metadata names (RFC 8414, else OpenID discovery), with issuer,
 * expiry and audience (the resource the request is for, RFC 8707) checked. A configured claim
 * (`GATEHOUSE_OAUTH_AGENT_CLAIM`, default `sub`) names the agent, and the token stands for the agent
 * credential an operator issued for it (`GATEHOUSE_OAUTH_AGENT_CREDENTIALS`): identity, policies,
 * caps and revocation are that credential's. A claim naming no configured agent is refused.
 */
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { refuseOpenSecretFile } from '../../client/trust/key-files';
import { Problem } from '../problems';

export interface ExternalIssuerOptions {
  /** The issuer URL, exactly as its tokens' `iss` says. */
  readonly issuer: string;
  /** The claim that names the agent. @default `sub` */
  readonly claim?: string;
  /** Agent credentials (from `gatehouse agents create`), one per agent a token may name. */
  readonly credentials: readonly string[];
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

function refused(message: string, rule: string): Problem {
  return new Problem('unauthorized', message, { rule });
}

/**
 * The agent credentials of a file: one token a line; blank lines and `#` comments skipped. They are
 * bearer tokens, so the file is refused, like a key file, unless it is mode 0600 or stricter.
 */
export function readCredentialsFile(path: string): string[] {
  refuseOpenSecretFile(path, 'agent credentials file', (message) => new Error(message));
  return readFileSync(path, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

export class ExternalIssuer {
  readonly issuer: string;
  readonly #claim: string;
  readonly #byAgent = new Map<string, string>();
  readonly #fetch: typeof fetch;
  #jwks: Promise<JWTVerifyGetKey> | undefined;

  constructor(o: ExternalIssuerOptions) {
    this.issuer = o.issuer;
    this.#claim = o.claim ?? 'sub';
    this.#fetch = o.fetch ?? fetch;
    for (const token of o.credentials) {
      let sub: unknown;
      try {
        sub = decodeJwt(token).sub;
      } catch {
        throw new Error('an agent credential for the external issuer is not a JWT');
      }
      // The gatekeeper verifies the credential itself on every use; here it is only indexed by agent.
      if (typeof sub !== 'string') continue;
      // Two credentials of one agent: which one a token stands for must not depend on their order.
      if (this.#byAgent.has(sub)) throw new Error(`two agent credentials for the external issuer name agent \`${sub.slice(0, 120)}\`: keep one`);
      this.#byAgent.set(sub, token);
    }
  }

  /** The agent credential a token stands for; throws a 401 problem naming the failed check. */
  async verify(token: string, resource: string | undefined): Promise<string> {
    if (resource === undefined) throw refused('a token of the external authorization server needs a resource to be checked against', 'oauth.audience');
    let payload: Record<string, unknown>;
    try {
      const r = await jwtVerify(token, await this.#keys(), { issuer: this.issuer, audience: resource, algorithms: ALGORITHMS, requiredClaims: ['exp'] });
      payload = r.payload as Record<string, unknown>;
    } catch (err) {
      if (err instanceof Problem) throw err;
      if (err instanceof joseErrors.JWTExpired) throw refused('the access token has expired', 'oauth.expired');
      if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'aud') throw refused(`the access token is not for \`${resource}\``, 'oauth.audience');
      if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'iss') throw refused(`the access token is not from \`${this.issuer}\``, 'oauth.issuer');
      throw refused(`the access token does not verify: ${err instanceof Error ? err.message : String(err)}`, 'oauth.signature');
    }
    const agent = payload[this.#claim];
    if (typeof agent !== 'string') throw refused(`the access token has no \`${this.#claim}\` naming the agent`, 'oauth.agent');
    const credential = this.#byAgent.get(agent);
    if (!credential) throw refused(`the access token's \`${this.#claim}\` \`${agent.slice(0, 120)}\` names no agent of this gateway`, 'oauth.agent');
    return credential;
  }

  /** The issuer's JWKS, from its metadata; a failed discovery is tried again on the next token. */
  #keys(): Promise<JWTVerifyGetKey> {
    this.#jwks ??= this.#discover().catch((err: unknown) => {
      this.#jwks = undefined;
      throw refused(`the authorization server \`${this.issuer}\` cannot be reached: ${err instanceof Error ? err.message : String(err)}`, 'oauth.issuer-unreachable');
    });
    return this.#jwks;
  }

  async #discover(): Promise<JWTVerifyGetKey> {
    const url = new URL(this.issuer);
    const path = url.pathname.replace(/\/+$/, '');
    const candidates = [`${url.origin}/.well-known/oauth-authorization-server${path}`, `${url.origin}/.well-known/openid-configuration${path}`, `${url.origin}${path}/.well-known/openid-configuration`];
    for (const candidate of candidates) {
      const r = await this.#fetch(candidate, { headers: { accept: 'application/json' } });
      if (!r.ok) continue;
      const metadata = (await r.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (metadata.issuer !== this.issuer) throw new Error(`its metadata names issuer \`${String(metadata.issuer)}\``);
      if (typeof metadata.jwks_uri !== 'string') throw new Error('its metadata names no `jwks_uri`');
      return createRemoteJWKSet(new URL(metadata.jwks_uri));
    }
    throw new Error('no authorization server metadata found');
  }
}
