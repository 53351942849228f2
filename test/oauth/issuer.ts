/**
 * A tiny external authorization server for tests, built from `jose`: RFC 8414 metadata and a real
 * JWKS over HTTP on 127.0.0.1, and access tokens it signs (ES256) with any claims a test asks for.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';

export interface TestIssuer {
  readonly issuer: string;
  /** Signs an access token (default: one hour, issued by this issuer); `key: 'other'` signs with a key not in the JWKS. */
  token(claims: JWTPayload, o?: { key?: 'own' | 'other'; expiresIn?: string | number }): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const own = await generateKeyPair('ES256', { extractable: true });
  const other = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(own.publicKey)), kid: 'test-1', alg: 'ES256', use: 'sig' };
  let issuer = '';
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.url === '/.well-known/oauth-authorization-server') return send(200, { issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`, response_types_supported: ['code'] });
    if (req.url === '/jwks') return send(200, { keys: [jwk] });
    return send(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    async token(claims, o = {}) {
      const key: CryptoKey = o.key === 'other' ? other.privateKey : own.privateKey;
      return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'test-1', typ: 'at+jwt' }).setIssuer(claims.iss ?? issuer).setIssuedAt().setExpirationTime(o.expiresIn ?? '1h').sign(key);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
