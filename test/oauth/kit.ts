/**
 * What the OAuth tests share: a worker and a gateway with its own authorization server on
 * 127.0.0.1 (the store's clock can be moved forward), and the steps of the authorization code flow
 * as a host's browser and token client take them, one HTTP request each, plus the operator's grant
 * through the same code path as `gatehouse mcp authorize`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Worker } from '@temporalio/worker';
import { grantAuthorization } from '../../cli/commands/mcp-authorize';
import { RevocationStore } from '../../audit/credentials';
import { createGateway, type GatewayDeps } from '../../gateway/server';
import { OAuthStore } from '../../gateway/oauth';
import { createCatalog } from '../workflows/fixtures/catalog';
import { createHarness, type Harness } from '../workflows/harness';
import { testTrust } from '../support/trust';

export const REDIRECT = 'http://127.0.0.1:9/callback';

export interface OAuthStack {
  readonly h: Harness;
  readonly baseUrl: string;
  readonly mcpUrl: URL;
  readonly app: FastifyInstance;
  /** Moves the authorization server's clock forward. */
  advance(ms: number): void;
  /** Another gateway on the same worker, with other deps (the external issuer). */
  gateway(deps: Partial<GatewayDeps>): Promise<{ baseUrl: string; app: FastifyInstance }>;
  billingRows(): Promise<number>;
  close(): Promise<void>;
}

export async function startOAuthStack(area: string): Promise<OAuthStack> {
  process.env.GATEHOUSE_MCP_HOLD_SECONDS = '2';
  const h = await createHarness(area);
  const worker: Worker = await h.worker();
  const running = worker.run();
  let offset = 0;
  const apps: FastifyInstance[] = [];
  const listen = async (deps: Partial<GatewayDeps>) => {
    const app = createGateway({ client: h.gh, keyset: testTrust().keyset, revocations: new RevocationStore(h.audit.pool), catalog: createCatalog({ productionPool: h.production.pool }), ...deps });
    await app.listen({ host: '127.0.0.1', port: 0 });
    apps.push(app);
    return { app, baseUrl: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
  };
  const main = await listen({ oauthStore: new OAuthStore(() => Date.now() + offset) });
  return {
    h,
    baseUrl: main.baseUrl,
    mcpUrl: new URL(`${main.baseUrl}/mcp`),
    app: main.app,
    advance: (ms) => void (offset += ms),
    gateway: listen,
    async billingRows() {
      const r = await h.production.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM billing_records');
      return r.rows[0]!.n;
    },
    async close() {
      for (const app of apps) await app.close();
      worker.shutdown();
      await running;
      await h.close();
    },
  };
}

export interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
}

export function pkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface OAuthAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly location: URL | undefined;
  readonly text: string;
}

async function answer(r: Response): Promise<OAuthAnswer> {
  const text = await r.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = {};
  }
  const location = r.headers.get('location');
  return { status: r.status, body, location: location ? new URL(location) : undefined, text };
}

/** RFC 7591 registration. */
export async function register(base: string, redirectUris: readonly string[] = [REDIRECT]): Promise<OAuthAnswer> {
  return answer(await fetch(`${base}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'test host', redirect_uris: redirectUris }) }));
}

/** The browser's first step: the authorization URL, redirects not followed. */
export async function authorize(base: string, params: Record<string, string>): Promise<OAuthAnswer> {
  const url = new URL(`${base}/oauth/authorize`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return answer(await fetch(url, { redirect: 'manual' }));
}

/** The request id the waiting page shows. */
export function requestIdOf(page: OAuthAnswer): string {
  const m = /<span id="request">([A-Za-z0-9_-]+)<\/span>/.exec(page.text);
  if (!m) throw new Error(`no request id on the page (status ${page.status}): ${page.text.slice(0, 300)}`);
  return m[1]!;
}

/** The browser's poll after consent. */
export async function wait(base: string, requestId: string): Promise<OAuthAnswer> {
  return answer(await fetch(`${base}/oauth/authorize/wait?request=${requestId}`, { redirect: 'manual' }));
}

export async function token(base: string, form: Record<string, string>): Promise<OAuthAnswer> {
  return answer(await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() }));
}

/** The operator grants a request, as `gatehouse mcp authorize` does (signed with the test operator key). */
export async function grant(base: string, requestId: string, agent: string, owner: string): Promise<void> {
  await grantAuthorization(new URL(base), requestId, { agent, owner, expires: '1h' }, testTrust().operator, { out: () => undefined, err: () => undefined });
}

/** A whole flow up to a code: register, authorize, operator grant, browser redirect. */
export async function codeFor(base: string, agent: string, owner: string): Promise<{ clientId: string; code: string; pkce: Pkce; resource: string }> {
  const client = await register(base);
  const clientId = client.body.client_id as string;
  const p = pkce();
  const resource = `${base}/mcp`;
  const page = await authorize(base, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: p.challenge, code_challenge_method: 'S256', state: 'st-1', resource });
  const id = requestIdOf(page);
  await grant(base, id, agent, owner);
  const back = await wait(base, id);
  const code = back.location?.searchParams.get('code');
  if (!code) throw new Error(`no code in the redirect: ${back.status} ${back.text.slice(0, 300)}`);
  return { clientId, code, pkce: p, resource };
}
