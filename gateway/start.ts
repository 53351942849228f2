/**
 * `startGateway(options)`: connects the gateway's own Temporal client, builds the server (the HTTP
 * API and MCP at `/mcp`) and listens (127.0.0.1 by default). What `gatehouse start` and `gateway/main.ts` call.
 *
 * | variable | meaning | default |
 * | --- | --- | --- |
 * | `GATEHOUSE_GATEWAY_HOST` | address to bind | `127.0.0.1` |
 * | `GATEHOUSE_GATEWAY_PORT` | port | 4780 when free, else a free port (`gatehouse start`); `8080` (`gateway/main.ts`) |
 * | `GATEHOUSE_GATEWAY_RATE`, `GATEHOUSE_GATEWAY_BURST` | requests per second per agent, and the burst above it | 50, 100 |
 * | `GATEHOUSE_GATEWAY_MAX_SESSIONS` | open sessions per root agent, HTTP and MCP together (reserved across replicas) | 20 |
 * | `GATEHOUSE_ALLOWED_HOSTS` | host names (no port) the gateway answers to besides loopback and the bound address; `*` any (DNS-rebinding protection) | none |
 * | `GATEHOUSE_ALLOWED_ORIGINS` | exact browser origins allowed besides those of an allowed host | none |
 * | `GATEHOUSE_PUBLIC_URL` | the base URL clients reach the gateway at, for the protected-resource metadata | each request's Host |
 * | `GATEHOUSE_OAUTH_ISSUER` | an external OAuth authorization server for `/mcp` (replaces the gateway's own) | none: the gateway's own |
 * | `GATEHOUSE_OAUTH_AGENT_CLAIM` | the claim of the external server's tokens that names the agent | `sub` |
 * | `GATEHOUSE_OAUTH_AGENT_CREDENTIALS` | file of agent credentials (one a line) the external server's tokens may stand for | required with the issuer |
 * | `GATEHOUSE_MCP_IDLE_SECONDS` | an MCP session unused this long is closed and its Gatehouse session ended | 1800 |
 * | `GATEHOUSE_GATEWAY_IN_FLIGHT` | requests per agent open at once (long polls, held MCP calls, streams), per replica | 200 |
 */
import type { FastifyInstance } from 'fastify';
import { listen } from './listen';
import type { ConnectionOptions } from '@temporalio/client';
import type { ToolCatalog } from '../activities/tools/catalog';
import type { RevocationStore } from '../audit/credentials';
import { Gatehouse, type CredentialTickets, type UnreachableOptions } from '../client';
import { MAX_SESSION_CAP } from '../policies/admissions';
import type { Keyset } from '../policies/trust';
import type { GatewayLimits } from './limits';
import { MCP_PATH, type UpstreamToolSource } from './mcp';
import { ExternalIssuer, readCredentialsFile } from './oauth';
import { originPolicy } from './origin';
import { createGateway } from './server';

export interface StartGatewayOptions {
  /** `unreachable`: how long a call rides out a Temporal it cannot reach before the gateway answers 503 (tests shorten it). */
  readonly temporal: { readonly address: string; readonly namespace: string; readonly taskQueue: string; readonly tls?: ConnectionOptions['tls']; readonly apiKey?: string; readonly unreachable?: UnreachableOptions };
  readonly keyset: Keyset;
  readonly revocations: Pick<RevocationStore, 'isRevoked'>;
  /**
   * Keeps each start's credential under a ticket (`startTickets` of the audit database), so no
   * workflow history holds an agent's bearer token. @default inline (the token is in the start input)
   */
  readonly credentialTickets?: CredentialTickets;
  /** The worker's tool catalog, for MCP `tools/list`. */
  readonly catalog?: ToolCatalog;
  /** Upstream MCP servers' tools as the worker published them (`publishedUpstreamTools(pool)`), for MCP `tools/list`. */
  readonly upstreamTools?: UpstreamToolSource;
  /** @default `GATEHOUSE_GATEWAY_HOST`, else 127.0.0.1 */
  readonly host?: string;
  /** 0 picks a free port. @default `GATEHOUSE_GATEWAY_PORT`, else `preferredPort` */
  readonly port?: number;
  /** The port to take when no port is given and it is free, else a free one (the dev stack's stable default). @default 0 */
  readonly preferredPort?: number;
  /** @default from the environment, else `DEFAULT_LIMITS` */
  readonly limits?: Partial<GatewayLimits>;
  readonly env?: NodeJS.ProcessEnv;
}

/** The dev stack's gateway port when free: a desktop host's bridge finds the same URL start after start. */
export const DEFAULT_GATEWAY_PORT = 4780;

export interface RunningGateway {
  readonly url: string;
  /** The port asked for was taken, so another was picked (`gatehouse start` says so). */
  readonly fellBack: boolean;
  /** `<url>/mcp`: MCP on the same server. */
  readonly mcpUrl: string;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** Thrown when a gateway variable is set to something unusable. */
export class GatewayConfigError extends Error {
  readonly type = 'GatewayConfigError';
  constructor(message: string) {
    super(message);
    this.name = 'GatewayConfigError';
  }
}

function positive(env: NodeJS.ProcessEnv, name: string, min = 1): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new GatewayConfigError(`\`${name}\` must be a number of at least ${min}, got \`${raw}\``);
  return n;
}

function publicUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new GatewayConfigError(`\`GATEHOUSE_PUBLIC_URL\` must be a URL, got \`${text}\``);
  }
  return url.href.replace(/\/+$/, '');
}

/** The external authorization server of `GATEHOUSE_OAUTH_ISSUER`, with the agents its tokens may name. */
export function externalIssuer(env: NodeJS.ProcessEnv): ExternalIssuer {
  const issuer = env.GATEHOUSE_OAUTH_ISSUER!;
  try {
    new URL(issuer);
  } catch {
    throw new GatewayConfigError(`\`GATEHOUSE_OAUTH_ISSUER\` must be a URL, got \`${issuer}\``);
  }
  const file = env.GATEHOUSE_OAUTH_AGENT_CREDENTIALS;
  if (!file) throw new GatewayConfigError('`GATEHOUSE_OAUTH_ISSUER` needs `GATEHOUSE_OAUTH_AGENT_CREDENTIALS`: a file of the agent credentials its tokens may stand for');
  let credentials: string[];
  try {
    credentials = readCredentialsFile(file);
  } catch (err) {
    throw new GatewayConfigError(`\`GATEHOUSE_OAUTH_AGENT_CREDENTIALS\` cannot be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  return new ExternalIssuer({ issuer, credentials, ...(env.GATEHOUSE_OAUTH_AGENT_CLAIM ? { claim: env.GATEHOUSE_OAUTH_AGENT_CLAIM } : {}) });
}

/** Limits and port from the environment. */
export function gatewayEnv(env: NodeJS.ProcessEnv): { host: string; port?: number; limits: Partial<GatewayLimits> } {
  const port = positive(env, 'GATEHOUSE_GATEWAY_PORT', 0);
  if (port !== undefined && (!Number.isInteger(port) || port > 65535)) throw new GatewayConfigError(`\`GATEHOUSE_GATEWAY_PORT\` must be a port number, got \`${env.GATEHOUSE_GATEWAY_PORT}\``);
  const rate = positive(env, 'GATEHOUSE_GATEWAY_RATE');
  const burst = positive(env, 'GATEHOUSE_GATEWAY_BURST');
  const sessions = positive(env, 'GATEHOUSE_GATEWAY_MAX_SESSIONS');
  // Checked here, not at the first session start: the admission workflow refuses a larger cap on every start.
  if (sessions !== undefined && (!Number.isInteger(sessions) || sessions > MAX_SESSION_CAP)) {
    throw new GatewayConfigError(`\`GATEHOUSE_GATEWAY_MAX_SESSIONS\` must be a whole number from 1 to ${MAX_SESSION_CAP}, got \`${env.GATEHOUSE_GATEWAY_MAX_SESSIONS}\``);
  }
  const idle = positive(env, 'GATEHOUSE_MCP_IDLE_SECONDS');
  const inFlight = positive(env, 'GATEHOUSE_GATEWAY_IN_FLIGHT');
  if (inFlight !== undefined && !Number.isInteger(inFlight)) throw new GatewayConfigError(`\`GATEHOUSE_GATEWAY_IN_FLIGHT\` must be a whole number, got \`${env.GATEHOUSE_GATEWAY_IN_FLIGHT}\``);
  return {
    host: env.GATEHOUSE_GATEWAY_HOST || '127.0.0.1',
    ...(port !== undefined ? { port } : {}),
    limits: { ...(rate ? { requestsPerSecond: rate } : {}), ...(burst ? { burst } : {}), ...(sessions ? { openSessions: sessions } : {}), ...(idle ? { mcpIdleSeconds: idle } : {}), ...(inFlight ? { requestsInFlight: inFlight } : {}) },
  };
}

/** Starts the gateway; `close()` stops listening, then closes its Temporal connection. */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const env = options.env ?? process.env;
  const fromEnv = gatewayEnv(env);
  const t = options.temporal;
  const client = await Gatehouse.connect({
    address: t.address,
    namespace: t.namespace,
    taskQueue: t.taskQueue,
    ...(t.tls !== undefined ? { tls: t.tls } : {}),
    ...(t.apiKey !== undefined ? { apiKey: t.apiKey } : {}),
    ...(t.unreachable !== undefined ? { unreachable: t.unreachable } : {}),
    ...(options.credentialTickets ? { credentialTickets: options.credentialTickets } : {}),
  });
  try {
    const app = createGateway({
      client,
      keyset: options.keyset,
      revocations: options.revocations,
      ...(options.catalog ? { catalog: options.catalog } : {}),
      ...(options.upstreamTools ? { upstreamTools: options.upstreamTools } : {}),
      limits: { ...fromEnv.limits, ...options.limits },
      origin: originPolicy(env, options.host ?? fromEnv.host),
      ...(env.GATEHOUSE_PUBLIC_URL ? { publicUrl: publicUrl(env.GATEHOUSE_PUBLIC_URL) } : {}),
      ...(env.GATEHOUSE_OAUTH_ISSUER ? { externalIssuer: externalIssuer(env) } : {}),
    });
    const host = options.host ?? fromEnv.host;
    const explicit = options.port ?? fromEnv.port;
    const { port, fellBack } = await listen(app, host, explicit !== undefined ? { port: explicit } : { preferredPort: options.preferredPort ?? 0 });
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return {
      url,
      fellBack,
      mcpUrl: `${url}${MCP_PATH}`,
      app,
      async close() {
        await app.close();
        await client.close();
      },
    };
  } catch (err) {
    await client.close();
    throw err;
  }
}
