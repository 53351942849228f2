/**
 * DNS-rebinding protection, in front of authentication on every route: the `Host` header's name
 * must be one the gateway answers to, and an `Origin` header, when a browser sends one, must be an
 * allowed origin or name an allowed host. A page on `evil.example.com` whose name was re-pointed
 * at 127.0.0.1 sends both with its own name, and is refused with 403 before anything else runs.
 *
 * Names are compared without the port, like the MCP SDK's `hostHeaderValidation`: `localhost`,
 * `127.0.0.1` and `[::1]` always; the bound address when it is a specific one; and
 * `GATEHOUSE_ALLOWED_HOSTS` (comma-separated names, e.g. `gatehouse.internal`, or `*` for any
 * name — behind a proxy that checks it). `GATEHOUSE_ALLOWED_ORIGINS` adds exact origins.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Problem } from './problems';

export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'] as const;

export interface OriginPolicy {
  /** Host names (no port) the gateway answers to; `*` allows any. */
  readonly hosts: readonly string[];
  /** Exact origins (`https://app.example.com`) allowed besides those of an allowed host. */
  readonly origins: readonly string[];
}

/** The policy from the bound address and `GATEHOUSE_ALLOWED_HOSTS` / `GATEHOUSE_ALLOWED_ORIGINS`. */
export function originPolicy(env: NodeJS.ProcessEnv, boundHost?: string): OriginPolicy {
  const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  const bound = boundHost && !['0.0.0.0', '::', ''].includes(boundHost) ? [boundHost.includes(':') && !boundHost.startsWith('[') ? `[${boundHost}]` : boundHost] : [];
  return { hosts: [...new Set([...LOOPBACK_HOSTS, ...bound.map((h) => h.toLowerCase()), ...list(env.GATEHOUSE_ALLOWED_HOSTS)])], origins: list(env.GATEHOUSE_ALLOWED_ORIGINS).map((o) => o.replace(/\/+$/, '')) };
}

/** The host name of a `Host` header or an origin's authority, lower case; undefined when it does not parse. */
function hostname(authority: string): string | undefined {
  if (/[/@?#\\\s]/.test(authority)) return undefined;
  try {
    return new URL(`http://${authority}`).hostname.toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}

/** Why a request's Host or Origin is refused, or undefined when both are acceptable. */
export function refusedOrigin(request: Pick<FastifyRequest, 'headers'>, policy: OriginPolicy): string | undefined {
  const anyHost = policy.hosts.includes('*');
  const host = request.headers.host;
  if (!anyHost) {
    const name = typeof host === 'string' ? hostname(host) : undefined;
    if (name === undefined || !policy.hosts.includes(name)) return `the \`host\` header \`${String(host ?? '').slice(0, 100)}\` is not a name this gateway answers to`;
  }
  const origin = request.headers.origin;
  if (origin === undefined) return undefined;
  if (typeof origin !== 'string') return 'more than one `origin` header';
  if (policy.origins.includes(origin.toLowerCase().replace(/\/+$/, ''))) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(origin);
  } catch {
    parsed = undefined;
  }
  const ok = parsed !== undefined && (parsed.protocol === 'http:' || parsed.protocol === 'https:') && (anyHost || policy.hosts.includes(parsed.hostname.toLowerCase()));
  return ok ? undefined : `the \`origin\` \`${origin.slice(0, 100)}\` is not allowed`;
}

/** The first hook of all (before authentication): a refused Host or Origin is a 403 and nothing else runs. */
export function registerOriginCheck(app: FastifyInstance, policy: OriginPolicy): void {
  app.addHook('onRequest', async (request) => {
    const why = refusedOrigin(request, policy);
    if (why !== undefined) throw new Problem('forbidden-origin', why, { rule: 'request.origin' });
  });
}
